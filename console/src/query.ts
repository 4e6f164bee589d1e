// QueryVectors: by the vector of a stored key or a pasted JSON array, topK, a JSON filter (the
// server's error shown as it comes), returnMetadata / returnDistance; results with distance bars.
import { useEffect, useState } from 'preact/hooks';
import { GetVectorsCommand, QueryVectorsCommand } from '@aws-sdk/client-s3vectors';
import { sdk, type ApiError } from './api';
import { ErrorBox, html, useAction } from './ui';

const RESULTS_PAGE = 100;

export interface Hit {
  key: string;
  distance?: number;
  metadata?: unknown;
}

export interface QueryOutcome {
  vector: number[];
  hits: Hit[];
}

function local(code: string, message: string): ApiError {
  return { code, message };
}

export function parseVector(text: string, dimension: number): number[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw local('InvalidJSON', `The query vector is not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(value) || !value.every((x) => typeof x === 'number' && Number.isFinite(x))) throw local('InvalidVector', 'The query vector is a JSON array of numbers.');
  if (value.length !== dimension) throw local('InvalidVector', `The index has dimension ${dimension}; the vector has ${value.length} values.`);
  return value as number[];
}

export function QueryPanel(props: { bucket: string; index: string; dimension: number; vector?: number[]; onOutcome: (o?: QueryOutcome) => void; onQueryWith: (v: number[]) => void }) {
  const { bucket, index, dimension } = props;
  const [source, setSource] = useState<'key' | 'json'>('key');
  const [key, setKey] = useState('');
  const [vectorText, setVectorText] = useState('');
  const [topK, setTopK] = useState('10');
  const [filterText, setFilterText] = useState('');
  const [returnMetadata, setReturnMetadata] = useState(true);
  const [returnDistance, setReturnDistance] = useState(true);
  const [hits, setHits] = useState<Hit[]>();
  const [took, setTook] = useState<number>();
  const [shownPage, setShownPage] = useState(0);
  useEffect(() => {
    if (props.vector) {
      setSource('json');
      setVectorText(JSON.stringify(props.vector));
    }
  }, [props.vector]);

  const vectorOf = async (k: string): Promise<number[]> => {
    const out = await sdk().send(new GetVectorsCommand({ vectorBucketName: bucket, indexName: index, keys: [k], returnData: true }));
    const data = out.vectors?.[0]?.data?.float32;
    if (!data) throw local('NotFound', `No vector with key "${k}" in ${index}.`);
    return data;
  };

  const run = useAction(async () => {
    setHits(undefined);
    const vector = source === 'key' ? await vectorOf(key) : parseVector(vectorText, dimension);
    let filter: unknown;
    if (filterText.trim()) {
      try {
        filter = JSON.parse(filterText);
      } catch (e) {
        throw local('InvalidJSON', `The filter is not JSON: ${(e as Error).message}`);
      }
    }
    const started = performance.now();
    // The server answers at most 100 results a page: follow nextToken, as the SDK paginators do.
    const found: Hit[] = [];
    let nextToken: string | undefined;
    do {
      const out = await sdk().send(
        new QueryVectorsCommand({
          vectorBucketName: bucket,
          indexName: index,
          queryVector: { float32: vector },
          topK: Number(topK),
          filter: filter as never,
          returnMetadata,
          returnDistance,
          nextToken,
        }),
      );
      for (const v of out.vectors ?? []) found.push({ key: v.key!, distance: v.distance, metadata: v.metadata });
      nextToken = out.nextToken;
    } while (nextToken);
    setTook(Math.round(performance.now() - started));
    setShownPage(0);
    setHits(found);
    props.onOutcome({ vector, hits: found });
  });
  const queryWithKey = useAction(async (k: string) => props.onQueryWith(await vectorOf(k)));
  const max = Math.max(1e-12, ...(hits ?? []).map((h) => h.distance ?? 0));
  const input = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);
  return html`<div class="card" id="query">
    <h2>Query</h2>
    <form onSubmit=${(e: Event) => (e.preventDefault(), run.act())}>
      <div class="inline-form">
        <label><input type="radio" name="source" checked=${source === 'key'} onChange=${() => setSource('key')} /> vector of key</label>
        <label><input type="radio" name="source" checked=${source === 'json'} onChange=${() => setSource('json')} /> JSON array</label>
        <label>topK <input name="topK" size="5" value=${topK} onInput=${input(setTopK)} /></label>
        <label><input type="checkbox" name="returnMetadata" checked=${returnMetadata} onChange=${() => setReturnMetadata(!returnMetadata)} /> returnMetadata</label>
        <label><input type="checkbox" name="returnDistance" checked=${returnDistance} onChange=${() => setReturnDistance(!returnDistance)} /> returnDistance</label>
      </div>
      ${source === 'key'
        ? html`<input name="queryKey" class="wide" placeholder="a stored key" value=${key} onInput=${input(setKey)} />`
        : html`<textarea name="queryVector" rows="3" spellcheck="false" placeholder=${`[${Array.from({ length: Math.min(dimension, 4) }, () => '0.0').join(', ')}${dimension > 4 ? ', …' : ''}] (${dimension} numbers)`} value=${vectorText} onInput=${input(setVectorText)}></textarea>`}
      <textarea name="filter" rows="3" spellcheck="false" placeholder='filter, e.g. {"genre": {"$in": ["drama", "comedy"]}, "year": {"$gte": 2000}}' value=${filterText} onInput=${input(setFilterText)}></textarea>
      <button type="submit" id="run-query" disabled=${run.busy}>Run query</button>
      ${took !== undefined && hits ? html` <span class="muted">${hits.length} results in ${took} ms</span>` : null}
    </form>
    <${ErrorBox} error=${run.error ?? queryWithKey.error} />
    ${hits && !hits.length ? html`<p class="muted">No vector matched.</p>` : null}
    ${hits?.length
      ? html`<table class="list" id="results">
          <thead><tr><th>#</th><th>Key</th>${returnDistance ? html`<th>Distance</th>` : null}${returnMetadata ? html`<th>Metadata</th>` : null}<th></th></tr></thead>
          <tbody>${hits.slice(shownPage * RESULTS_PAGE, (shownPage + 1) * RESULTS_PAGE).map(
            (h, i) => html`<tr data-key=${h.key}>
              <td>${shownPage * RESULTS_PAGE + i + 1}</td><td class="key">${h.key}</td>
              ${returnDistance
                ? html`<td class="distance"><div class="bar"><div style=${{ width: `${Math.max(1, ((h.distance ?? 0) / max) * 100)}%` }}></div></div><span>${h.distance?.toFixed(4)}</span></td>`
                : null}
              ${returnMetadata ? html`<td><code class="meta">${h.metadata === undefined ? '' : JSON.stringify(h.metadata)}</code></td>` : null}
              <td><button type="button" class="secondary" onClick=${() => queryWithKey.act(h.key)}>Query with this vector</button></td>
            </tr>`,
          )}</tbody>
        </table>
        ${hits.length > RESULTS_PAGE
          ? html`<div class="pager" id="results-pager">
              <button type="button" class="secondary" disabled=${shownPage === 0} onClick=${() => setShownPage(shownPage - 1)}>← Previous</button>
              <span class="muted">results ${shownPage * RESULTS_PAGE + 1}–${Math.min(hits.length, (shownPage + 1) * RESULTS_PAGE)} of ${hits.length}</span>
              <button type="button" class="secondary pager-next" disabled=${(shownPage + 1) * RESULTS_PAGE >= hits.length} onClick=${() => setShownPage(shownPage + 1)}>Next →</button>
            </div>`
          : null}`
      : null}
  </div>`;
}

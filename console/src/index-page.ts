// One index: its maintenance figures, its vectors (ListVectors pages with metadata, a key lookup
// with GetVectors, delete selected), the query panel and the PCA picture.
import { useEffect, useState } from 'preact/hooks';
import { DeleteVectorsCommand, GetVectorsCommand, ListVectorsCommand } from '@aws-sdk/client-s3vectors';
import { indexStatus, sdk, signedCall, type IndexDescription, type IndexFigures } from './api';
import { Tags } from './bucket-settings';
import { PcaPicture } from './pca';
import { QueryPanel, type QueryOutcome } from './query';
import { EmptyState, ErrorBox, Pager, encodeSeg, formatTime, html, link, useAction, usePaged } from './ui';

const PAGE_SIZE = 25;
const WATCH_MS = 5_000;

export function IndexPage({ bucket, index }: { bucket: string; index: string }) {
  const [description, setDescription] = useState<IndexDescription>();
  const [figures, setFigures] = useState<IndexFigures>();
  const status = useAction(async () => {
    const r = await indexStatus(bucket, index);
    setDescription(r.index);
    setFigures(r.figures);
  });
  useEffect(() => void status.act(), [bucket, index]);
  // "Watch": refresh the figures every few seconds, to see maintenance catch up.
  const [watch, setWatch] = useState(false);
  useEffect(() => {
    if (!watch) return;
    const timer = setInterval(() => void status.act(), WATCH_MS);
    return () => clearInterval(timer);
  }, [watch, bucket, index]);
  const [queryVector, setQueryVector] = useState<number[]>();
  const [outcome, setOutcome] = useState<QueryOutcome>();
  return html`<section>
    <p class="crumbs"><a href=${link('/')}>Buckets</a> / <a href=${link(`/b/${encodeSeg(bucket)}`)}>${bucket}</a> / ${index}</p>
    <h1>${index}</h1>
    <${ErrorBox} error=${status.error} />
    ${description ? html`<${Figures} description=${description} figures=${figures} onRefresh=${() => status.act()} busy=${status.busy} watch=${watch} onWatch=${setWatch} />` : null}
    <${Vectors} bucket=${bucket} index=${index} onQueryWith=${setQueryVector} onChanged=${() => status.act()} />
    ${description
      ? html`<${QueryPanel} bucket=${bucket} index=${index} dimension=${description.dimension} vector=${queryVector} onOutcome=${setOutcome} onQueryWith=${setQueryVector} />
          <${PcaPicture} bucket=${bucket} index=${index} metric=${description.distanceMetric} outcome=${outcome} />
          <${Tags} arn=${description.indexArn} />
          <${IndexMode} bucket=${bucket} index=${index} mode=${description.indexMode} onChanged=${() => status.act()} />`
      : null}
  </section>`;
}

function Figures(props: { description: IndexDescription; figures?: IndexFigures; onRefresh: () => void; busy: boolean; watch: boolean; onWatch: (on: boolean) => void }) {
  const { description: d, figures: f, onRefresh, busy } = props;
  const cell = (label: string, value: unknown, id?: string) => html`<div class="figure" data-figure=${id}><div class="muted">${label}</div><div class="value">${value}</div></div>`;
  const ann = !f ? '–' : f.indexedRows === null ? `none yet (exact search below ${f.annThresholdRows.toLocaleString()} rows)` : f.indexedRows.toLocaleString();
  const last = f?.lastRun?.lastRunAt
    ? `${formatTime(f.lastRun.lastRunAt)} ${f.lastRun.lastOutcome ?? ''}${f.lastRun.lastActions?.length ? ` [${f.lastRun.lastActions.join(', ')}]` : ''}`
    : 'never';
  const next = !f || f.nextDue === null ? '–' : f.nextDue === 'now' ? `now: ${f.pending.join(', ')}` : formatTime(f.nextDue);
  return html`<div class="card" id="figures">
    <div class="figures">
      ${cell('Dimension', d.dimension)} ${cell('Data type', d.dataType)} ${cell('Metric', d.distanceMetric)} ${cell('Mode', d.indexMode ?? '–')}
      ${cell('Non-filterable keys', d.metadataConfiguration?.nonFilterableMetadataKeys?.join(', ') || '–')}
    </div>
    <div class="figures">
      ${cell('Rows', f ? f.rows.toLocaleString() : '–', 'rows')} ${cell('ANN-indexed rows', ann, 'indexed')}
      ${cell('Pending (not in ANN index)', f?.unindexedRows === null || !f ? '–' : f.unindexedRows!.toLocaleString(), 'pending')}
      ${cell('Fragments', f ? f.fragments : '–', 'fragments')} ${cell('Last maintenance run', last, 'last-run')} ${cell('Next due', next, 'next-due')}
      <button class="secondary" onClick=${onRefresh} disabled=${busy}>Refresh</button>
      <label class="muted"><input type="checkbox" id="watch" checked=${props.watch} onChange=${() => props.onWatch(!props.watch)} /> watch (every ${WATCH_MS / 1000} s)</label>
    </div>
    ${f?.lastRun?.lastError ? html`<p class="error">Last maintenance error: ${f.lastRun.lastError}</p>` : null}
  </div>`;
}

interface VectorRow {
  key: string;
  metadata?: unknown;
  data?: number[];
}

function Vectors({ bucket, index, onQueryWith, onChanged }: { bucket: string; index: string; onQueryWith: (v: number[]) => void; onChanged: () => void }) {
  const paged = usePaged(async (token?: string) => {
    const out = await sdk().send(new ListVectorsCommand({ vectorBucketName: bucket, indexName: index, maxResults: PAGE_SIZE, nextToken: token, returnMetadata: true }));
    return { items: (out.vectors ?? []).map((v) => ({ key: v.key!, metadata: v.metadata })) as VectorRow[], nextToken: out.nextToken };
  }, [bucket, index]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [search, setSearch] = useState('');
  const [found, setFound] = useState<VectorRow | null>();
  const fetchOne = async (key: string): Promise<VectorRow | null> => {
    const out = await sdk().send(new GetVectorsCommand({ vectorBucketName: bucket, indexName: index, keys: [key], returnData: true, returnMetadata: true }));
    const v = out.vectors?.[0];
    return v ? { key: v.key!, metadata: v.metadata, data: v.data?.float32 } : null;
  };
  const lookup = useAction(async () => setFound(await fetchOne(search)));
  const queryWith = useAction(async (key: string) => {
    const row = await fetchOne(key);
    if (row?.data) onQueryWith(row.data);
  });
  const remove = useAction(async () => {
    await sdk().send(new DeleteVectorsCommand({ vectorBucketName: bucket, indexName: index, keys: [...selected] }));
    setSelected(new Set());
    paged.reload();
    onChanged();
  });
  useEffect(() => setSelected(new Set()), [bucket, index]);
  const toggle = (key: string) => {
    const next = new Set(selected);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    setSelected(next);
  };
  return html`<div class="card" id="vectors">
    <h2>Vectors</h2>
    <form class="inline-form" id="key-search" onSubmit=${(e: Event) => (e.preventDefault(), search && lookup.act())}>
      <input name="key" placeholder="find a key (GetVectors)" value=${search} onInput=${(e: Event) => setSearch((e.target as HTMLInputElement).value)} />
      <button type="submit" class="secondary">Get vector</button>
      <button type="button" class="danger" id="delete-selected" disabled=${!selected.size || remove.busy} onClick=${() => remove.act()}>Delete selected (${selected.size})</button>
    </form>
    <${ErrorBox} error=${lookup.error ?? remove.error ?? queryWith.error} />
    ${found === null ? html`<p class="muted" id="found">No vector with key <code>${search}</code>.</p>` : null}
    ${found
      ? html`<div class="found" id="found">
          <p><strong>${found.key}</strong> <button class="secondary" onClick=${() => found.data && onQueryWith(found.data)}>Query with this vector</button></p>
          <p class="muted">metadata</p><pre>${JSON.stringify(found.metadata ?? {}, null, 2)}</pre>
          <p class="muted">data (${found.data?.length ?? 0} values)</p><pre class="data">${JSON.stringify(found.data)}</pre>
        </div>`
      : null}
    <${ErrorBox} error=${paged.error} />
    ${!paged.loading && !paged.error && !paged.items.length && !paged.hasPrev
      ? html`<${EmptyState}
          text="No vectors in this index yet. Put some from Python:"
          code=${`s3v.put_vectors(vectorBucketName="${bucket}", indexName="${index}", vectors=[\n    {"key": "doc-1", "data": {"float32": [0.1, 0.2, ...]}, "metadata": {"genre": "drama"}}])`}
        />`
      : null}
    ${paged.items.length
      ? html`<table class="list" id="vector-list">
          <thead><tr><th></th><th>Key</th><th>Metadata</th><th></th></tr></thead>
          <tbody>${paged.items.map(
            (v) => html`<tr data-key=${v.key}>
              <td><input type="checkbox" checked=${selected.has(v.key)} onChange=${() => toggle(v.key)} /></td>
              <td class="key">${v.key}</td>
              <td><code class="meta">${v.metadata === undefined ? '' : JSON.stringify(v.metadata)}</code></td>
              <td><button class="secondary" onClick=${() => queryWith.act(v.key)}>Query with this vector</button></td>
            </tr>`,
          )}</tbody>
        </table>`
      : null}
    <${Pager} paged=${paged} />
  </div>`;
}


function IndexMode({ bucket, index, mode, onChanged }: { bucket: string; index: string; mode?: string; onChanged: () => void }) {
  const update = useAction(async (next: string) => {
    await signedCall('UpdateIndexMode', { vectorBucketName: bucket, indexName: index, indexMode: next });
    onChanged();
  });
  return html`<div class="card" id="index-mode">
    <h2>Index mode</h2>
    <p>This index runs in <strong>${mode ?? '–'}</strong> mode.
      ${['ENHANCED', 'CLASSIC'].filter((m) => m !== mode).map((m) => html` <button class="secondary" onClick=${() => update.act(m)}>Switch to ${m}</button>`)}</p>
    <${ErrorBox} error=${update.error} />
  </div>`;
}

// One bucket: its indexes (paged, described one by one with GetIndex), create and delete an index,
// then the bucket's settings (tags, policy, default index mode).
import { useState } from 'preact/hooks';
import { CreateIndexCommand, DeleteIndexCommand, ListIndexesCommand } from '@aws-sdk/client-s3vectors';
import { getIndexRaw, sdk, type IndexDescription } from './api';
import { BucketSettings } from './bucket-settings';
import { ConfirmButton, EmptyState, ErrorBox, Pager, encodeSeg, formatTime, html, link, useAction, usePaged } from './ui';

const PAGE_SIZE = 20;
const INDEX_NAME = /^[a-z0-9](?:[a-z0-9.-]{1,61})[a-z0-9]$/;

export interface IndexForm {
  indexName: string;
  dimension: string;
  distanceMetric: string;
  nonFilterable: string;
}

/** The model's constraints on CreateIndex, checked before anything is sent. */
export function indexFormProblems(form: IndexForm): string[] {
  const problems: string[] = [];
  if (form.indexName.length < 3 || form.indexName.length > 63) problems.push('An index name has 3 to 63 characters.');
  else if (!INDEX_NAME.test(form.indexName)) problems.push('Index names use lowercase letters, numbers, hyphens and dots, and start and end with a letter or number.');
  const dimension = Number(form.dimension);
  if (!/^\d+$/.test(form.dimension.trim()) || dimension < 1 || dimension > 4096) problems.push('The dimension is a whole number from 1 to 4096.');
  if (!['cosine', 'euclidean'].includes(form.distanceMetric)) problems.push('The distance metric is cosine or euclidean.');
  const keys = splitKeys(form.nonFilterable);
  if (keys.length > 10) problems.push('At most 10 non-filterable metadata keys.');
  if (keys.some((k) => k.length > 63)) problems.push('A metadata key has 1 to 63 characters.');
  if (new Set(keys).size !== keys.length) problems.push('Each non-filterable key once.');
  return problems;
}

function splitKeys(text: string): string[] {
  return text.split(',').map((k) => k.trim()).filter(Boolean);
}

type Row = { indexName: string; description?: IndexDescription; error?: unknown };

export function BucketPage({ bucket }: { bucket: string }) {
  const paged = usePaged(async (token?: string) => {
    const out = await sdk().send(new ListIndexesCommand({ vectorBucketName: bucket, maxResults: PAGE_SIZE, nextToken: token }));
    const items: Row[] = await Promise.all(
      (out.indexes ?? []).map((i) =>
        getIndexRaw(bucket, i.indexName!).then(
          (r) => ({ indexName: i.indexName!, description: r.index }),
          (error) => ({ indexName: i.indexName!, error }),
        ),
      ),
    );
    return { items, nextToken: out.nextToken };
  }, [bucket]);
  const [form, setForm] = useState<IndexForm>({ indexName: '', dimension: '', distanceMetric: 'cosine', nonFilterable: '' });
  const [problems, setProblems] = useState<string[]>([]);
  const create = useAction(async () => {
    const keys = splitKeys(form.nonFilterable);
    await sdk().send(
      new CreateIndexCommand({
        vectorBucketName: bucket,
        indexName: form.indexName,
        dataType: 'float32',
        dimension: Number(form.dimension),
        distanceMetric: form.distanceMetric as 'cosine',
        metadataConfiguration: keys.length ? { nonFilterableMetadataKeys: keys } : undefined,
      }),
    );
    setForm({ ...form, indexName: '' });
    paged.first();
  });
  const remove = useAction(async (indexName: string) => {
    await sdk().send(new DeleteIndexCommand({ vectorBucketName: bucket, indexName }));
    paged.reload();
  });
  const field = (name: keyof IndexForm) => (e: Event) => setForm({ ...form, [name]: (e.target as HTMLInputElement).value });
  const submit = (e: Event) => {
    e.preventDefault();
    const p = indexFormProblems(form);
    setProblems(p);
    if (!p.length) void create.act();
  };
  return html`<section>
    <p class="crumbs"><a href=${link('/')}>Buckets</a> / ${bucket}</p>
    <h1>Indexes of ${bucket}</h1>
    <form class="inline-form" id="create-index" onSubmit=${submit}>
      <input name="indexName" placeholder="index-name" value=${form.indexName} onInput=${field('indexName')} />
      <input name="dimension" placeholder="dimension" size="9" value=${form.dimension} onInput=${field('dimension')} />
      <select name="distanceMetric" value=${form.distanceMetric} onChange=${field('distanceMetric')}>
        <option value="cosine">cosine</option><option value="euclidean">euclidean</option>
      </select>
      <select name="dataType" disabled><option>float32</option></select>
      <input name="nonFilterable" placeholder="non-filterable keys, comma-separated" size="32" value=${form.nonFilterable} onInput=${field('nonFilterable')} />
      <button type="submit" disabled=${create.busy}>Create index</button>
    </form>
    ${problems.length ? html`<ul class="problem">${problems.map((p) => html`<li>${p}</li>`)}</ul>` : null}
    <${ErrorBox} error=${create.error} />
    <${ErrorBox} error=${remove.error} />
    <${ErrorBox} error=${paged.error} />
    ${!paged.loading && !paged.error && !paged.items.length && !paged.hasPrev
      ? html`<${EmptyState}
          text="No indexes in this bucket yet. Create one above, or from Python:"
          code=${`s3v.create_index(vectorBucketName="${bucket}", indexName="my-index",\n                 dataType="float32", dimension=384, distanceMetric="cosine")`}
        />`
      : null}
    ${paged.items.length
      ? html`<table class="list" id="indexes">
          <thead><tr><th>Name</th><th>Dimension</th><th>Data type</th><th>Metric</th><th>Mode</th><th>Non-filterable keys</th><th>Created</th><th></th></tr></thead>
          <tbody>
            ${paged.items.map((row) => {
              const d = row.description;
              return html`<tr data-index=${row.indexName}>
                <td><a href=${link(`/b/${encodeSeg(bucket)}/i/${encodeSeg(row.indexName)}`)}>${row.indexName}</a></td>
                ${d
                  ? html`<td>${d.dimension}</td><td>${d.dataType}</td><td>${d.distanceMetric}</td><td>${d.indexMode ?? '–'}</td>
                      <td>${d.metadataConfiguration?.nonFilterableMetadataKeys?.join(', ') || '–'}</td><td>${formatTime(d.creationTime)}</td>`
                  : html`<td colspan="6"><${ErrorBox} error=${row.error} /></td>`}
                <td><${ConfirmButton} label="Delete" prompt=${`Delete ${row.indexName} and its vectors?`} onConfirm=${() => remove.act(row.indexName)} /></td>
              </tr>`;
            })}
          </tbody>
        </table>`
      : null}
    <${Pager} paged=${paged} />
    <${BucketSettings} bucket=${bucket} />
  </section>`;
}

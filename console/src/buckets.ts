// The page /console opens on: vector buckets, paged; create; delete with a confirm.
import { useState } from 'preact/hooks';
import { CreateVectorBucketCommand, DeleteVectorBucketCommand, ListVectorBucketsCommand } from '@aws-sdk/client-s3vectors';
import { sdk } from './api';
import { ConfirmButton, EmptyState, ErrorBox, Pager, encodeSeg, formatTime, html, link, useAction, usePaged } from './ui';

const PAGE_SIZE = 20;
// AWS: 3–63 characters, lowercase letters, numbers and hyphens, starting and ending with a letter or number.
export const BUCKET_NAME = /^[a-z0-9](?:[a-z0-9-]{1,61})[a-z0-9]$/;

export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return 'A bucket name has 3 to 63 characters.';
  if (!BUCKET_NAME.test(name)) return 'Use lowercase letters, numbers and hyphens; start and end with a letter or number.';
  return undefined;
}

export function BucketsPage() {
  const paged = usePaged(async (token?: string) => {
    const out = await sdk().send(new ListVectorBucketsCommand({ maxResults: PAGE_SIZE, nextToken: token }));
    return { items: out.vectorBuckets ?? [], nextToken: out.nextToken };
  }, []);
  const [name, setName] = useState('');
  const [problem, setProblem] = useState<string>();
  const [openName, setOpenName] = useState('');
  const create = useAction(async () => {
    await sdk().send(new CreateVectorBucketCommand({ vectorBucketName: name }));
    setName('');
    paged.first();
  });
  const remove = useAction(async (bucket: string) => {
    await sdk().send(new DeleteVectorBucketCommand({ vectorBucketName: bucket }));
    paged.reload();
  });
  const submit = (e: Event) => {
    e.preventDefault();
    const p = bucketNameProblem(name);
    setProblem(p);
    if (!p) void create.act();
  };
  return html`<section>
    <h1>Vector buckets</h1>
    <form class="inline-form" id="create-bucket" onSubmit=${submit}>
      <input name="bucketName" placeholder="new-bucket-name" value=${name} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} />
      <button type="submit" disabled=${create.busy}>Create bucket</button>
      ${problem ? html`<span class="problem">${problem}</span>` : null}
    </form>
    <form class="inline-form" id="open-bucket" onSubmit=${(e: Event) => (e.preventDefault(), openName && (location.hash = link(`/b/${encodeSeg(openName)}`)))}>
      <input name="openBucket" placeholder="open a bucket by name" value=${openName} onInput=${(e: Event) => setOpenName((e.target as HTMLInputElement).value)} />
      <button type="submit" class="secondary">Open</button>
      <span class="muted">(when your keys may use a bucket but not list them)</span>
    </form>
    <${ErrorBox} error=${create.error} />
    <${ErrorBox} error=${remove.error} />
    <${ErrorBox} error=${paged.error} />
    ${paged.loading && !paged.items.length ? html`<p class="muted">Loading…</p>` : null}
    ${!paged.loading && !paged.error && !paged.items.length && !paged.hasPrev
      ? html`<${EmptyState} text="No vector buckets yet. Create one above, or from Python:" code=${'s3v.create_vector_bucket(vectorBucketName="my-bucket")'} />`
      : null}
    ${paged.items.length
      ? html`<table class="list" id="buckets">
          <thead><tr><th>Name</th><th>Created</th><th>ARN</th><th></th></tr></thead>
          <tbody>
            ${paged.items.map(
              (b) => html`<tr data-bucket=${b.vectorBucketName}>
                <td><a href=${link(`/b/${encodeSeg(b.vectorBucketName!)}`)}>${b.vectorBucketName}</a></td>
                <td>${formatTime(b.creationTime)}</td>
                <td class="arn">${b.vectorBucketArn}</td>
                <td><${ConfirmButton} label="Delete" prompt=${`Delete ${b.vectorBucketName}?`} onConfirm=${() => remove.act(b.vectorBucketName!)} /></td>
              </tr>`,
            )}
          </tbody>
        </table>`
      : null}
    <${Pager} paged=${paged} />
  </section>`;
}

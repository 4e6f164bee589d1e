// A bucket's settings: tags, the bucket policy (the server's ValidationException shown next to the
// text), and the default index mode (an operation newer than the SDK, so signed by hand).
import { useEffect, useState } from 'preact/hooks';
import {
  DeleteVectorBucketPolicyCommand,
  GetVectorBucketPolicyCommand,
  ListTagsForResourceCommand,
  PutVectorBucketPolicyCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-s3vectors';
import { sdk, signedCall, toApiError } from './api';
import { ErrorBox, html, useAction } from './ui';

interface BucketDescription {
  vectorBucketName: string;
  vectorBucketArn: string;
  defaultIndexMode?: string;
}

export function BucketSettings({ bucket }: { bucket: string }) {
  const [description, setDescription] = useState<BucketDescription>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    signedCall<{ vectorBucket: BucketDescription }>('GetVectorBucket', { vectorBucketName: bucket }).then(
      (r) => setDescription(r.vectorBucket),
      setError,
    );
  }, [bucket]);
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!description) return null;
  return html`<div class="settings">
    <${Tags} arn=${description.vectorBucketArn} />
    <${Policy} bucket=${bucket} />
    <${DefaultMode} bucket=${bucket} initial=${description.defaultIndexMode} />
  </div>`;
}

export function Tags({ arn }: { arn: string }) {
  const [tags, setTags] = useState<Record<string, string>>();
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const load = useAction(async () => setTags((await sdk().send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags ?? {}));
  const add = useAction(async () => {
    await sdk().send(new TagResourceCommand({ resourceArn: arn, tags: { [key]: value } }));
    setKey('');
    setValue('');
    await load.act();
  });
  const remove = useAction(async (k: string) => {
    await sdk().send(new UntagResourceCommand({ resourceArn: arn, tagKeys: [k] }));
    await load.act();
  });
  useEffect(() => void load.act(), [arn]);
  return html`<div class="card" id="tags">
    <h2>Tags</h2>
    <${ErrorBox} error=${load.error ?? add.error ?? remove.error} />
    ${tags && !Object.keys(tags).length ? html`<p class="muted">No tags.</p>` : null}
    ${tags && Object.keys(tags).length
      ? html`<table class="list"><tbody>${Object.entries(tags).map(
          ([k, v]) => html`<tr><td><code>${k}</code></td><td>${v}</td><td><button class="secondary" onClick=${() => remove.act(k)}>Remove</button></td></tr>`,
        )}</tbody></table>`
      : null}
    <form class="inline-form" onSubmit=${(e: Event) => (e.preventDefault(), key && add.act())}>
      <input placeholder="key" value=${key} onInput=${(e: Event) => setKey((e.target as HTMLInputElement).value)} />
      <input placeholder="value" value=${value} onInput=${(e: Event) => setValue((e.target as HTMLInputElement).value)} />
      <button type="submit" class="secondary">Add tag</button>
    </form>
  </div>`;
}

const POLICY_EXAMPLE = (arn: string) =>
  JSON.stringify(
    {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:user/reader' }, Action: ['s3vectors:QueryVectors', 's3vectors:GetVectors'], Resource: `${arn}/index/*` }],
    },
    null,
    2,
  );

function Policy({ bucket }: { bucket: string }) {
  const [text, setText] = useState('');
  const [stored, setStored] = useState<string | undefined>();
  const [saved, setSaved] = useState('');
  const load = useAction(async () => {
    try {
      const policy = (await sdk().send(new GetVectorBucketPolicyCommand({ vectorBucketName: bucket }))).policy;
      setStored(policy);
      setText(policy ? JSON.stringify(JSON.parse(policy), null, 2) : '');
    } catch (e) {
      if (toApiError(e).code !== 'NotFoundException') throw e;
      setStored(undefined);
      setText('');
    }
  });
  const save = useAction(async () => {
    await sdk().send(new PutVectorBucketPolicyCommand({ vectorBucketName: bucket, policy: text }));
    setSaved('Saved.');
    await load.act();
  });
  const remove = useAction(async () => {
    await sdk().send(new DeleteVectorBucketPolicyCommand({ vectorBucketName: bucket }));
    setSaved('Deleted.');
    await load.act();
  });
  useEffect(() => void load.act(), [bucket]);
  return html`<div class="card" id="policy">
    <h2>Bucket policy</h2>
    <${ErrorBox} error=${load.error} />
    ${stored === undefined ? html`<p class="muted">No bucket policy: only identity policies decide. Paste one to add it.</p>` : null}
    <div class="editor-row">
      <textarea rows="10" spellcheck="false" placeholder=${POLICY_EXAMPLE(`arn:aws:s3vectors:…:bucket/${bucket}`)} value=${text}
        onInput=${(e: Event) => (setText((e.target as HTMLTextAreaElement).value), setSaved(''))}></textarea>
      <div class="editor-side"><${ErrorBox} error=${save.error ?? remove.error} />${saved ? html`<p class="ok">${saved}</p>` : null}</div>
    </div>
    <button onClick=${() => save.act()} disabled=${save.busy || !text.trim()}>Save policy</button>
    ${stored !== undefined ? html` <button class="danger" onClick=${() => remove.act()}>Delete policy</button>` : null}
  </div>`;
}

function DefaultMode({ bucket, initial }: { bucket: string; initial?: string }) {
  const [mode, setMode] = useState(initial ?? 'ENHANCED');
  const [saved, setSaved] = useState('');
  const save = useAction(async (next: string) => {
    await signedCall('PutVectorBucketDefaultIndexMode', { vectorBucketName: bucket, defaultIndexMode: next });
    setMode(next);
    setSaved(`New indexes default to ${next}.`);
  });
  return html`<div class="card" id="default-mode">
    <h2>Default index mode</h2>
    <p>Indexes created from now on: <strong>${mode}</strong>
      ${['ENHANCED', 'CLASSIC'].filter((m) => m !== mode).map((m) => html` <button class="secondary" onClick=${() => save.act(m)}>Switch to ${m}</button>`)}</p>
    <${ErrorBox} error=${save.error} />${saved ? html`<p class="ok">${saved}</p>` : null}
  </div>`;
}

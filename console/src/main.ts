// The console shell: settings from the server, sign-in (when authentication is on), hash routes.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ListVectorBucketsCommand } from '@aws-sdk/client-s3vectors';
import { currentSettings, loadSettings, sdk, signedInAs, storedKeys, toApiError, useKeys, type Keys } from './api';
import { BucketPage } from './bucket';
import { BucketsPage } from './buckets';
import { IndexPage } from './index-page';
import { ErrorBox, html, link } from './ui';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

async function check(): Promise<void> {
  await sdk().send(new ListVectorBucketsCommand({ maxResults: 1 }));
}

function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [accessKeyId, setId] = useState('');
  const [secretAccessKey, setSecret] = useState('');
  const [remember, setRemember] = useState(true);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    useKeys({ accessKeyId: accessKeyId.trim(), secretAccessKey }, false);
    try {
      // Valid keys whose policies do not allow ListVectorBuckets still sign in: the pages say what is denied.
      await check().catch((err) => {
        if (toApiError(err).code !== 'AccessDeniedException') throw err;
      });
      useKeys({ accessKeyId: accessKeyId.trim(), secretAccessKey }, remember);
      onSignedIn();
    } catch (err) {
      useKeys(undefined, false);
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="signin card">
    <h1>Sign in</h1>
    <p class="muted">With an access key of this server (the root keys <code>npm start</code> printed, or a user's from <code>npm run iam</code>).
      The keys stay in this tab: in memory, and in sessionStorage if you tick the box. Never in a cookie or URL.</p>
    <form id="signin" onSubmit=${submit}>
      <label>Access key id <input name="accessKeyId" autocomplete="username" value=${accessKeyId} onInput=${(e: Event) => setId((e.target as HTMLInputElement).value)} /></label>
      <label>Secret access key <input name="secretAccessKey" type="password" autocomplete="current-password" value=${secretAccessKey} onInput=${(e: Event) => setSecret((e.target as HTMLInputElement).value)} /></label>
      <label class="check"><input type="checkbox" checked=${remember} onChange=${() => setRemember(!remember)} /> keep me signed in in this tab (sessionStorage)</label>
      <button type="submit" disabled=${busy || !accessKeyId || !secretAccessKey}>Sign in</button>
    </form>
    <${ErrorBox} error=${error} />
  </section>`;
}

function Route({ hash }: { hash: string }) {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'b' && parts.length === 2) return html`<${BucketPage} key=${parts[1]} bucket=${parts[1]} />`;
  if (parts[0] === 'b' && parts[2] === 'i' && parts.length === 4) return html`<${IndexPage} key=${`${parts[1]}/${parts[3]}`} bucket=${parts[1]} index=${parts[3]} />`;
  return html`<${BucketsPage} />`;
}

function App() {
  const hash = useHash();
  const [ready, setReady] = useState(false);
  const [failed, setFailed] = useState<unknown>();
  const [signedIn, setSignedIn] = useState(false);
  useEffect(() => {
    loadSettings().then(
      (s) => {
        const keys: Keys | undefined = s.auth ? storedKeys() : undefined;
        if (keys) useKeys(keys, true);
        setSignedIn(!s.auth || Boolean(keys));
        setReady(true);
      },
      setFailed,
    );
  }, []);
  if (failed) return html`<${ErrorBox} error=${failed} />`;
  if (!ready) return html`<p class="muted">Loading…</p>`;
  const { auth, region } = currentSettings();
  const signOut = () => {
    useKeys(undefined, false);
    setSignedIn(false);
  };
  return html`<header>
      <a class="brand" href=${link('/')}>S3 Vectors console</a>
      <span class="muted">${location.host} · ${region}</span>
      <span class="spacer"></span>
      ${auth
        ? signedIn
          ? html`<span id="whoami">signed in as <code>${signedInAs()}</code></span> <button class="secondary" id="signout" onClick=${signOut}>Sign out</button>`
          : null
        : html`<span class="warn" id="whoami">authentication off</span>`}
    </header>
    <main>${signedIn ? html`<${Route} hash=${hash} />` : html`<${SignIn} onSignedIn=${() => setSignedIn(true)} />`}</main>`;
}

render(html`<${App} />`, document.getElementById('app')!);

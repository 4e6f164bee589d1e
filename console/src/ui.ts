// Shared pieces: htm bound to preact, error boxes (AWS code + message), paging, empty states.
import { h } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import { currentSettings, toApiError, type ApiError } from './api';

export const html = htm.bind(h);

export function ErrorBox({ error }: { error?: ApiError | unknown }) {
  if (!error) return null;
  const e = toApiError(error);
  return html`<div class="error" role="alert" data-code=${e.code}>
    <strong class="error-code">${e.code}</strong>${e.status ? html` <span class="muted">(HTTP ${e.status})</span>` : null}${': '}<span class="error-message">${e.message}</span>
    ${e.fieldList?.length
      ? html`<ul>${e.fieldList.map((f) => html`<li><code>${f.path}</code>: ${f.message}</li>`)}</ul>`
      : null}
  </div>`;
}

/** Runs an action, remembering its error; `busy` while it runs. */
export function useAction<A extends unknown[]>(run: (...args: A) => Promise<unknown>) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const act = useCallback(
    async (...args: A) => {
      setBusy(true);
      setError(undefined);
      try {
        await run(...args);
        return true;
      } catch (e) {
        setError(e);
        return false;
      } finally {
        setBusy(false);
      }
    },
    [run],
  );
  return { act, error, busy, setError };
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

/** A token-paged list: Next follows nextToken, Previous goes back through the tokens seen. */
export function usePaged<T>(load: (token?: string) => Promise<Page<T>>, deps: unknown[]) {
  const [tokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<Page<T>>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const [version, setVersion] = useState(0);
  const generation = useRef(0);
  const token = tokens[tokens.length - 1];
  useEffect(() => setTokens([undefined]), deps);
  useEffect(() => {
    const mine = ++generation.current;
    setLoading(true);
    load(token).then(
      (p) => {
        if (mine !== generation.current) return;
        setPage(p);
        setError(undefined);
        setLoading(false);
      },
      (e) => {
        if (mine !== generation.current) return;
        setError(e);
        setPage(undefined);
        setLoading(false);
      },
    );
  }, [token, version, ...deps]);
  return {
    items: page?.items ?? [],
    error,
    loading,
    pageNumber: tokens.length,
    hasNext: Boolean(page?.nextToken),
    hasPrev: tokens.length > 1,
    next: () => page?.nextToken && setTokens([...tokens, page.nextToken]),
    prev: () => tokens.length > 1 && setTokens(tokens.slice(0, -1)),
    reload: () => setVersion((v) => v + 1),
    first: () => (tokens.length > 1 ? setTokens([undefined]) : setVersion((v) => v + 1)),
  };
}

export function Pager({ paged }: { paged: ReturnType<typeof usePaged<any>> }) {
  if (!paged.hasPrev && !paged.hasNext) return null;
  return html`<div class="pager">
    <button class="secondary" disabled=${!paged.hasPrev} onClick=${paged.prev}>← Previous</button>
    <span class="muted">page ${paged.pageNumber}</span>
    <button class="secondary pager-next" disabled=${!paged.hasNext} onClick=${paged.next}>Next →</button>
  </div>`;
}

/** What to do next when a list is empty, with a boto3 snippet for this endpoint. */
export function EmptyState({ text, code }: { text: string; code: string }) {
  const { region, auth } = currentSettings();
  const keys = auth ? `,\n                   aws_access_key_id="…", aws_secret_access_key="…"` : `,\n                   aws_access_key_id="x", aws_secret_access_key="x"`;
  return html`<div class="empty">
    <p>${text}</p>
    <pre><code>import boto3
s3v = boto3.client("s3vectors", endpoint_url="${location.origin}",
                   region_name="${region}"${keys})
${code}</code></pre>
  </div>`;
}

/** A destructive button that asks once more inline. */
export function ConfirmButton({ label, prompt, onConfirm }: { label: string; prompt: string; onConfirm: () => void }) {
  const [asking, setAsking] = useState(false);
  if (!asking) return html`<button class="danger" onClick=${() => setAsking(true)}>${label}</button>`;
  return html`<span class="confirm">${prompt}
    <button class="danger confirm-yes" onClick=${() => (setAsking(false), onConfirm())}>Yes, delete</button>
    <button class="secondary" onClick=${() => setAsking(false)}>Cancel</button></span>`;
}

export function formatTime(value: Date | number | string | undefined): string {
  if (value === undefined || value === null) return '–';
  const d = value instanceof Date ? value : new Date(typeof value === 'number' && value < 1e12 ? value * 1000 : value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function link(path: string): string {
  return `#${path}`;
}

export function encodeSeg(s: string): string {
  return encodeURIComponent(s);
}

// A picture of the index: up to SAMPLE vectors (ListVectors pages with data) projected on their
// first two principal components, coloured by a metadata key; the last query and its hits on top.
import { useMemo, useState } from 'preact/hooks';
import { ListVectorsCommand } from '@aws-sdk/client-s3vectors';
import { sdk } from './api';
import type { QueryOutcome } from './query';
import { normalized, principalAxes, project } from './pca-math';
import { ErrorBox, html, useAction } from './ui';

const SAMPLE = 2000;
const W = 640;
const H = 400;
const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d'];

interface Point {
  key: string;
  vector: number[];
  metadata?: Record<string, unknown>;
}

function legendLabel(json: string): string {
  const value = JSON.parse(json);
  return typeof value === 'string' ? value : value === null ? '(missing)' : json;
}

export function PcaPicture({ bucket, index, metric, outcome }: { bucket: string; index: string; metric: string; outcome?: QueryOutcome }) {
  const [points, setPoints] = useState<Point[]>();
  const [colourKey, setColourKey] = useState('');
  const load = useAction(async () => {
    const out: Point[] = [];
    let token: string | undefined;
    do {
      const page = await sdk().send(
        new ListVectorsCommand({ vectorBucketName: bucket, indexName: index, maxResults: Math.min(500, SAMPLE - out.length), nextToken: token, returnData: true, returnMetadata: true }),
      );
      for (const v of page.vectors ?? []) if (v.data?.float32) out.push({ key: v.key!, vector: v.data.float32, metadata: v.metadata as Record<string, unknown> });
      token = page.nextToken;
    } while (token && out.length < SAMPLE);
    setPoints(out);
  });
  const prep = (v: number[]) => (metric === 'cosine' ? normalized(v) : v);
  const model = useMemo(() => (points && points.length >= 2 ? principalAxes(points.map((p) => prep(p.vector))) : undefined), [points]);
  const keys = useMemo(() => [...new Set((points ?? []).flatMap((p) => Object.keys(p.metadata ?? {})))].sort(), [points]);
  if (!points) {
    return html`<div class="card" id="pca"><h2>Picture (PCA)</h2>
      <p class="muted">Project up to ${SAMPLE.toLocaleString()} vectors onto their two main directions.</p>
      <button class="secondary" onClick=${() => load.act()} disabled=${load.busy}>${load.busy ? 'Sampling…' : 'Draw the picture'}</button>
      <${ErrorBox} error=${load.error} /></div>`;
  }
  if (!model) return html`<div class="card" id="pca"><h2>Picture (PCA)</h2><p class="muted">At least two vectors are needed.</p></div>`;
  const projected = points.map((p) => project(prep(p.vector), model.mean, model.axes));
  const query = outcome ? project(prep(outcome.vector), model.mean, model.axes) : undefined;
  const all = query ? [...projected, query] : projected;
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  // One scale for both axes: distances in the picture stay comparable, and a flat cloud stays flat.
  const scale = Math.min((W - 40) / (x1 - x0 || 1), (H - 40) / (y1 - y0 || 1));
  const sx = (x: number) => W / 2 + (x - (x0 + x1) / 2) * scale;
  const sy = (y: number) => H / 2 - (y - (y0 + y1) / 2) * scale;
  const values = colourKey ? points.map((p) => p.metadata?.[colourKey]) : [];
  const numeric = values.length > 0 && values.every((v) => typeof v === 'number' || v === undefined);
  const categories = numeric ? [] : [...new Set(values.map((v) => JSON.stringify(v ?? null)))].slice(0, PALETTE.length - 1);
  const [n0, n1] = numeric ? [Math.min(...(values.filter((v) => v !== undefined) as number[])), Math.max(...(values.filter((v) => v !== undefined) as number[]))] : [0, 1];
  const colour = (i: number): string => {
    if (!colourKey) return PALETTE[0];
    const v = values[i];
    if (numeric) return v === undefined ? '#9ca3af' : `hsl(${220 - (((v as number) - n0) / (n1 - n0 || 1)) * 220}, 70%, 45%)`;
    const c = categories.indexOf(JSON.stringify(v ?? null));
    return c === -1 ? '#9ca3af' : PALETTE[c];
  };
  const hitKeys = new Set(outcome?.hits.map((h) => h.key) ?? []);
  return html`<div class="card" id="pca">
    <h2>Picture (PCA of ${points.length.toLocaleString()} vectors)</h2>
    <div class="inline-form">
      <label>colour by <select value=${colourKey} onChange=${(e: Event) => setColourKey((e.target as HTMLSelectElement).value)}>
        <option value="">(none)</option>${keys.map((k) => html`<option value=${k}>${k}</option>`)}
      </select></label>
      <button class="secondary" onClick=${() => load.act()} disabled=${load.busy}>Sample again</button>
      ${outcome ? html`<span class="muted">★ the query, ringed: its ${outcome.hits.length} hits</span>` : null}
    </div>
    <svg width=${W} height=${H} viewBox=${`0 0 ${W} ${H}`} class="plot">
      <rect x="0" y="0" width=${W} height=${H} fill="#fff" stroke="#e5e7eb" />
      ${projected.map((p, i) => html`<circle cx=${sx(p[0])} cy=${sy(p[1])} r="3" fill=${colour(i)} fill-opacity="0.7"><title>${points[i].key}</title></circle>`)}
      ${projected.map((p, i) => (hitKeys.has(points[i].key) ? html`<circle cx=${sx(p[0])} cy=${sy(p[1])} r="7" fill="none" stroke="#111" stroke-width="2" />` : null))}
      ${query ? html`<text x=${sx(query[0])} y=${sy(query[1]) + 6} text-anchor="middle" font-size="18" fill="#f59e0b" stroke="#111" stroke-width="0.6">★</text>` : null}
    </svg>
    ${colourKey && !numeric
      ? html`<div class="legend">${categories.map((c, i) => html`<span><i style=${{ background: PALETTE[i] }}></i>${legendLabel(c)}</span>`)}</div>`
      : null}
  </div>`;
}

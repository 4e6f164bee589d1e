// A filtered query on the hot index: the filter is evaluated in memory (hot-filter.ts) to the
// snapshot labels it matches, minus the keys the delta overrides, plus the delta rows it matches.
// - Few matches (≤ exactMax): exact search over their f32 vectors (read from the .vectors file):
//   the true top-K, as LanceDB's exact prefiltered search.
// - Many: HNSW over-fetch (≈ k / selectivity × overfetch candidates), keeping the matching ones;
//   asked again deeper when short. Past maxWant candidates the query goes to LanceDB (undefined).
import type { FilterNode } from '../../core/filter/ast';
import type { Metadata } from '../../core/ports';
import { has, labelsOf, popcount, rowMatches } from './hot-filter';
import { byRawThenKey, type HotDelta, type HotHit, type HotSnapshot } from './hot-index';

export interface FilteredSettings {
  /** At most this many matching snapshot rows: exact search over them. */
  exactMax: number;
  /** HNSW candidates asked per expected match (k / selectivity × this). */
  overfetch: number;
  /** Deepest HNSW search tried; beyond it LanceDB answers. */
  maxWant: number;
}

export type FilteredOutcome = { hits: HotHit[]; path: 'exact' | 'hnsw' } | { hits: undefined; path: 'fallback' };

export function hotFilteredQuery(snapshot: HotSnapshot, delta: HotDelta, vector: Float32Array, k: number, filter: FilterNode, s: FilteredSettings): FilteredOutcome {
  const filters = snapshot.filters;
  if (!filters) return { hits: undefined, path: 'fallback' };
  const bits = filters.evaluate(filter);
  const matching = popcount(bits);
  const live = (label: number) => delta.size === 0 || !delta.touched(snapshot.key(label));
  let kept: { key: string; raw: number }[];
  let path: 'exact' | 'hnsw';
  if (matching <= s.exactMax) {
    path = 'exact';
    kept = snapshot
      .exact(vector, labelsOf(bits).filter(live), k)
      .map((h) => ({ key: snapshot.key(h.label), raw: h.raw }));
  } else {
    if (s.maxWant === 0) return { hits: undefined, path: 'fallback' };
    path = 'hnsw';
    let want = Math.ceil((k * snapshot.rows * s.overfetch) / matching) + Math.min(delta.size, k);
    // A quantized index ranks approximately: keep more matches, re-rank them with the f32 vectors.
    const quantized = snapshot.quantization !== 'f32';
    const keep = quantized ? 3 * k : k;
    let labels: { label: number; raw: number }[];
    for (;;) {
      want = Math.min(want, snapshot.rows);
      labels = [];
      for (const hit of snapshot.searchLabels(vector, want)) {
        if (has(bits, hit.label) && live(hit.label)) labels.push(hit);
        if (labels.length === keep) break;
      }
      // Every row searched: what matched is all there is.
      if (labels.length >= k || want >= snapshot.rows) break;
      if (want >= s.maxWant) return { hits: undefined, path: 'fallback' };
      want = Math.min(want * 4, s.maxWant);
    }
    if (quantized) labels = snapshot.exact(vector, labels.map((h) => h.label).sort((a, b) => a - b), k);
    kept = labels.slice(0, k).map((h) => ({ key: snapshot.key(h.label), raw: h.raw }));
  }
  const fromDelta = delta.searchWhere(vector, k, snapshot.metric, (row) => rowMatches(filter, row));
  const merged: { key: string; raw: number; metadata?: Metadata; fromDelta?: boolean }[] = [...kept, ...fromDelta.map((h) => ({ ...h, fromDelta: true }))];
  merged.sort(byRawThenKey);
  const euclidean = snapshot.metric === 'l2sq';
  return {
    path,
    hits: merged.slice(0, k).map((h) => ({
      key: h.key,
      distance: euclidean ? Math.sqrt(Math.max(0, h.raw)) : h.raw,
      ...(h.fromDelta ? { fromDelta: { metadata: h.metadata } } : {}),
    })),
  };
}

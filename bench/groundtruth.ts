// Exact (brute-force) top-k with plain Float32Array math, on worker threads over the shared rows,
// cached on disk per dataset; and recall@k of returned keys against it (ties count as hits).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Dataset, PredicateSpec } from './datasets';

export interface GroundTruth {
  k: number;
  queryCount: number;
  /** queryCount × k row ids, -1 where fewer than k rows match. */
  ids: Int32Array;
  dists: Float32Array;
}

/** Worker source (plain JS, no loader needed). Distances: squared L2 / cosine distance. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { vectors, norms, cat, n, dimension, count, metric, k } = workerData;
const v = new Float32Array(vectors);
const nx = new Float64Array(norms);
const cats = new Uint8Array(cat);
const nums = new Uint8Array(n);
const euclid = metric === 'euclidean';
parentPort.on('message', (job) => {
  const { queries, specs, first } = job;
  const q = new Float32Array(queries);
  const nq = q.length / dimension;
  const ids = new Int32Array(nq * k).fill(-1);
  const dists = new Float32Array(nq * k).fill(Infinity);
  const topD = new Float64Array(k);
  const topI = new Int32Array(k);
  for (let j = 0; j < nq; j++) {
    const qo = j * dimension;
    let qq = 0;
    for (let d = 0; d < dimension; d++) qq += q[qo + d] * q[qo + d];
    const qn = Math.sqrt(qq);
    const spec = specs[j];
    const col = spec ? (spec.column === 'cat' ? cats : nums) : null;
    const isEq = spec ? spec.op === 'eq' : false;
    const val = spec ? spec.value : 0;
    topD.fill(Infinity); topI.fill(-1);
    let worst = Infinity, filled = 0;
    for (let i = 0; i < count; i++) {
      if (col !== null && (isEq ? col[i] !== val : !(col[i] < val))) continue;
      const o = i * dimension;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, d = 0;
      for (; d + 3 < dimension; d += 4) {
        a0 += q[qo + d] * v[o + d];
        a1 += q[qo + d + 1] * v[o + d + 1];
        a2 += q[qo + d + 2] * v[o + d + 2];
        a3 += q[qo + d + 3] * v[o + d + 3];
      }
      for (; d < dimension; d++) a0 += q[qo + d] * v[o + d];
      const dot = a0 + a1 + a2 + a3;
      const dist = euclid ? nx[i] - 2 * dot + qq : 1 - dot / (nx[i] * qn);
      if (filled < k || dist < worst) {
        let p = filled < k ? filled++ : k - 1;
        while (p > 0 && topD[p - 1] > dist) { topD[p] = topD[p - 1]; topI[p] = topI[p - 1]; p--; }
        topD[p] = dist; topI[p] = i;
        worst = filled < k ? Infinity : topD[k - 1];
      }
    }
    for (let t = 0; t < filled; t++) { ids[j * k + t] = topI[t]; dists[j * k + t] = topD[t]; }
    parentPort.postMessage({ progress: 1 });
  }
  parentPort.postMessage({ first, ids, dists }, [ids.buffer, dists.buffer]);
});
`;

/** Per row: |x|² (euclidean) or |x| (cosine), in double precision. */
export function rowNorms(ds: Dataset): Float64Array {
  const norms = new Float64Array(new SharedArrayBuffer(ds.count * 8));
  const { vectors: v, dimension } = ds;
  for (let i = 0; i < ds.count; i++) {
    let s = 0;
    for (let d = 0, o = i * dimension; d < dimension; d++) s += v[o + d] * v[o + d];
    norms[i] = ds.metric === 'euclidean' ? s : Math.sqrt(s);
  }
  return norms;
}

/** The same distance the workers compute (for scoring returned rows). */
export function exactDistance(ds: Dataset, norms: Float64Array, qi: number, row: number): number {
  const { vectors: v, queries: q, dimension } = ds;
  let dot = 0;
  let qq = 0;
  const qo = qi * dimension;
  const o = row * dimension;
  for (let d = 0; d < dimension; d++) {
    dot += q[qo + d] * v[o + d];
    qq += q[qo + d] * q[qo + d];
  }
  return ds.metric === 'euclidean' ? norms[row] - 2 * dot + qq : 1 - dot / (norms[row] * Math.sqrt(qq));
}

export function matches(ds: Dataset, spec: PredicateSpec | undefined, row: number): boolean {
  if (!spec) return true;
  const value = (spec.column === 'cat' ? ds.cat : ds.n)[row];
  return spec.op === 'eq' ? value === spec.value : value < spec.value;
}

export interface GroundTruthOptions {
  k: number;
  queryCount: number;
  cacheDir: string;
  onProgress?: (done: number) => void;
}

/** Exact top-k for queries 0..queryCount-1, unfiltered (spec undefined) or under one filter case. */
export async function groundTruth(
  ds: Dataset,
  norms: Float64Array,
  variant: string,
  specOf: ((qi: number) => PredicateSpec) | undefined,
  options: GroundTruthOptions,
): Promise<{ truth: GroundTruth; cached: boolean; seconds: number }> {
  const { k, queryCount } = options;
  mkdirSync(options.cacheDir, { recursive: true });
  const file = join(options.cacheDir, `gt-${ds.cacheKey}-${variant.replace(/[^a-z0-9]/gi, '')}-k${k}-q${queryCount}.bin`);
  if (existsSync(file)) {
    const buf = readFileSync(file);
    const n = queryCount * k;
    if (buf.length === n * 8) {
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
      return { truth: { k, queryCount, ids: new Int32Array(ab, 0, n), dists: new Float32Array(ab, n * 4, n) }, cached: true, seconds: 0 };
    }
  }
  const started = performance.now();
  const threads = Math.max(1, Math.min(availableParallelism(), 8));
  const workers = Array.from(
    { length: threads },
    () =>
      new Worker(WORKER, {
        eval: true,
        workerData: {
          vectors: ds.vectors.buffer,
          norms: norms.buffer,
          cat: ds.cat.buffer,
          n: ds.n.buffer,
          dimension: ds.dimension,
          count: ds.count,
          metric: ds.metric,
          k,
        },
      }),
  );
  const ids = new Int32Array(queryCount * k);
  const dists = new Float32Array(queryCount * k);
  let done = 0;
  try {
    // Small chunks, handed out as workers free up, keep both cores busy to the end.
    const chunk = 16;
    let next = 0;
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              if (next >= queryCount) return resolve();
              const first = next;
              const last = Math.min(queryCount, first + chunk);
              next = last;
              const queries = ds.queries.slice(first * ds.dimension, last * ds.dimension);
              const specs = Array.from({ length: last - first }, (_, j) => (specOf ? specOf(first + j) : null));
              worker.postMessage({ queries: queries.buffer, specs, first }, [queries.buffer]);
            };
            worker.on('message', (msg: { progress?: number; first?: number; ids?: Int32Array; dists?: Float32Array }) => {
              if (msg.progress) {
                done += msg.progress;
                options.onProgress?.(done);
                return;
              }
              ids.set(msg.ids!, msg.first! * k);
              dists.set(msg.dists!, msg.first! * k);
              send();
            });
            worker.on('error', reject);
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  writeFileSync(file, Buffer.concat([Buffer.from(ids.buffer), Buffer.from(dists.buffer)]));
  return { truth: { k, queryCount, ids, dists }, cached: false, seconds: (performance.now() - started) / 1000 };
}

/**
 * recall@k of one result list: returned rows (first k, distinct, matching the filter) whose exact
 * distance is within the true k-th distance (so ties with the true top-k count), over the number
 * of true neighbours (fewer than k when fewer rows match). NaN when no row matches.
 */
export function recallAt(
  ds: Dataset,
  norms: Float64Array,
  truth: GroundTruth,
  qi: number,
  returnedKeys: string[],
  k: number,
  spec: PredicateSpec | undefined,
): number {
  let expected = 0;
  for (let t = 0; t < k; t++) if (truth.ids[qi * truth.k + t] >= 0) expected++;
  if (expected === 0) return NaN;
  const kth = truth.dists[qi * truth.k + expected - 1];
  const tolerance = Math.abs(kth) * 1e-5 + 1e-6;
  const seen = new Set<number>();
  let hits = 0;
  for (const key of returnedKeys.slice(0, k)) {
    const row = Number(key);
    if (!Number.isInteger(row) || row < 0 || row >= ds.count || seen.has(row)) continue;
    seen.add(row);
    if (!matches(ds, spec, row)) continue;
    if (exactDistance(ds, norms, qi, row) <= kth + tolerance) hits++;
  }
  return Math.min(1, hits / expected);
}

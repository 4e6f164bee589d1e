// Shared pieces of the maintenance tests: an in-memory catalog, seeded vectors, brute force.
import type { BucketRecord, CatalogPort, IndexRecord, ListRequest, ListResult, Metadata, QueryHit } from '../../lambdas/core/ports';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LanceVectorStore as LanceStore, type LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { MaintenanceWorker } from '../../lambdas/maintenance/worker-client';

export function indexRecord(name: string, dimension: number, distanceMetric: 'euclidean' | 'cosine' = 'euclidean'): IndexRecord {
  return {
    bucketName: 'bkt',
    name,
    arn: `arn:aws:s3vectors:us-east-1:123456789012:bucket/bkt/index/${name}`,
    creationTime: 0,
    dataType: 'float32',
    dimension,
    distanceMetric,
    nonFilterableMetadataKeys: [],
    encryption: { sseType: 'AES256' },
    indexMode: 'ENHANCED',
    tags: {},
    storageId: `bkt.${name}.${Math.random().toString(16).slice(2, 10)}`,
  };
}

/** Just what maintenance reads: buckets and their indexes. */
export function memoryCatalog(indexes: IndexRecord[]): Pick<CatalogPort, 'listBuckets' | 'listIndexes'> {
  const page = <T extends { name: string }>(items: T[], request: ListRequest): ListResult<T> => {
    const sorted = items.filter((i) => request.after === undefined || i.name > request.after).sort((a, b) => (a.name < b.name ? -1 : 1));
    const slice = sorted.slice(0, request.limit);
    return { items: slice, last: sorted.length > request.limit ? slice[slice.length - 1].name : undefined };
  };
  return {
    listBuckets: async (request) => page([...new Set(indexes.map((i) => i.bucketName))].map((name) => ({ name }) as BucketRecord), request),
    listIndexes: async (bucket, request) => page(indexes.filter((i) => i.bucketName === bucket), request),
  };
}

export function rng(seed: number): () => number {
  return () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
}

/** Clustered vectors (20 centres), so the ANN graph has structure like real data. */
export function vectors(count: number, dimension: number, seed: number): Float32Array {
  const next = rng(seed);
  const centres = Array.from({ length: 20 }, () => Array.from({ length: dimension }, () => next() * 10));
  const data = new Float32Array(count * dimension);
  for (let i = 0; i < count; i++) {
    const c = centres[Math.floor(next() * centres.length)];
    for (let j = 0; j < dimension; j++) data[i * dimension + j] = c[j] + (next() - 0.5) * 3;
  }
  return data;
}

export interface Rows {
  keys: string[];
  data: Float32Array;
  metadata: Metadata[];
}

export function rows(prefix: string, start: number, count: number, dimension: number, seed: number): Rows {
  const keys = Array.from({ length: count }, (_, i) => `${prefix}${start + i}`);
  return {
    keys,
    data: vectors(count, dimension, seed),
    // n: 0..99 (1% each), group: 10 values (10% each)
    metadata: keys.map((_, i) => ({ n: (start + i) % 100, group: `g${(start + i) % 10}` })),
  };
}

export async function putAll(store: LanceVectorStore, index: IndexRecord, r: Rows, batch = 500): Promise<void> {
  const d = index.dimension;
  for (let s = 0; s < r.keys.length; s += batch) {
    const e = Math.min(r.keys.length, s + batch);
    await store.put(index, { keys: r.keys.slice(s, e), data: r.data.slice(s * d, e * d), metadata: r.metadata.slice(s, e) });
  }
}

/** Exact top-K keys among `all` rows that pass `keep`, by squared euclidean distance. */
export function bruteForce(all: Rows[], dimension: number, query: Float32Array, k: number, keep: (m: Metadata) => boolean = () => true): string[] {
  const scored: [number, string][] = [];
  for (const r of all) {
    for (let i = 0; i < r.keys.length; i++) {
      if (!keep(r.metadata[i])) continue;
      let d = 0;
      for (let j = 0; j < dimension; j++) {
        const t = r.data[i * dimension + j] - query[j];
        d += t * t;
      }
      scored.push([d, r.keys[i]]);
    }
  }
  scored.sort((a, b) => a[0] - b[0]);
  return scored.slice(0, k).map((s) => s[1]);
}

/** Share of the true top-K found. Nothing to find: 1 for an empty answer, 0 for any hit. */
export function recall(hits: QueryHit[], truth: string[]): number {
  if (truth.length === 0) return hits.length === 0 ? 1 : 0;
  const want = new Set(truth);
  return hits.filter((h) => want.has(h.key)).length / truth.length;
}

export function rowVector(r: Rows, i: number, dimension: number): Float32Array {
  return r.data.slice(i * dimension, (i + 1) * dimension);
}

/**
 * A LanceVectorStore in a temporary folder with a MaintenanceWorker beside it (heavy actions in the
 * worker process, writes in this one, as the local server runs maintenance), the worker at normal
 * priority: for tests about what maintenance does with the CPU it gets within a time window. At
 * idle priority (the default) a busy machine starves it (an optimize took 0.3 s, then 11.5 s, then
 * over 60 s at load ~40), and the window sees nothing happen; test/reliability/fold-worker-priority
 * and write-during-build keep the default. Registers its own beforeAll/afterAll.
 */
export function normalPriorityWorkerStore(prefix: string): { dir: string; store: LanceVectorStore; worker: MaintenanceWorker } {
  const h = {} as { dir: string; store: LanceVectorStore; worker: MaintenanceWorker };
  const savedEnv = { ...process.env };
  beforeAll(() => {
    process.env.S3V_MAINT_WORKER_SCHED = 'normal';
    process.env.S3V_MAINT_WORKER_NICE = '0';
    h.dir = mkdtempSync(join(tmpdir(), prefix));
    h.store = new LanceStore({ uri: h.dir });
    h.worker = new MaintenanceWorker(h.store.storage);
  });
  afterAll(async () => {
    process.env = savedEnv;
    await h.worker.close();
    await h.store.close();
    rmSync(h.dir, { recursive: true, force: true });
  });
  return h;
}

// Review of the hot index (review-hot): edge cases an unlucky user meets through the SDK while the
// hot index serves, each compared with the exact (brute-force) answer over what the test wrote.
import {
  CreateIndexCommand,
  CreateVectorBucketCommand,
  DeleteVectorsCommand,
  GetVectorsCommand,
  PutVectorsCommand,
  QueryVectorsCommand,
} from '@aws-sdk/client-s3vectors';
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import type { HotStats } from '../../lambdas/adapters/hot/hot-indexes';
import { startTestService, uniqueName, type TestService } from '../helpers/service';

jest.setTimeout(180_000);
Object.assign(process.env, { S3V_HOT_MIN_ROWS: '1', S3V_HOT_QUIET_MS: '300', S3V_HOT_DELTA_MAX: '1000', S3V_HOT_BUILD_THREADS: '1' });

const dimension = 8;
let seed = 11;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648 - 0.5);
const randomVector = () => Array.from({ length: dimension }, rnd).map(Math.fround);

let t: TestService;
const store = () => t.service.deps.store as LanceVectorStore;
const hot = (): HotStats => store().hotStats()!;

interface Idx {
  ref: { vectorBucketName: string; indexName: string };
  metric: 'euclidean' | 'cosine';
  truth: Map<string, { v: number[]; m?: Record<string, unknown> }>;
}
const dist = (metric: string, a: number[], b: number[]) => {
  if (metric === 'euclidean') return Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0));
  const dot = a.reduce((s, x, i) => s + x * b[i], 0);
  const na = Math.sqrt(a.reduce((s, x) => s + x * x, 0));
  const nb = Math.sqrt(b.reduce((s, x) => s + x * x, 0));
  return 1 - dot / (na * nb);
};
function exact(idx: Idx, q: number[], k: number) {
  return [...idx.truth]
    .map(([key, { v, m }]) => ({ key, distance: dist(idx.metric, q, v), metadata: m }))
    .sort((a, b) => a.distance - b.distance || (a.key < b.key ? -1 : 1))
    .slice(0, k);
}
async function query(idx: Idx, q: number[], topK = 10, extra: { returnMetadata?: boolean; returnDistance?: boolean } = {}) {
  const out = await t.client.send(new QueryVectorsCommand({ ...idx.ref, queryVector: { float32: q }, topK, returnDistance: true, ...extra }));
  return out.vectors!;
}
async function put(idx: Idx, entries: [string, number[], Record<string, unknown>?][]) {
  await t.client.send(new PutVectorsCommand({ ...idx.ref, vectors: entries.map(([key, v, m]) => ({ key, data: { float32: v }, metadata: (m ?? { key }) as Record<string, string | number | boolean> })) }));
  for (const [key, v, m] of entries) idx.truth.set(key, { v, m: m ?? { key } });
}
async function del(idx: Idx, keys: string[]) {
  await t.client.send(new DeleteVectorsCommand({ ...idx.ref, keys }));
  for (const k of keys) idx.truth.delete(k);
}
async function served<T>(run: () => Promise<T>): Promise<{ result: T; served: number }> {
  const before = hot().served;
  const result = await run();
  return { result, served: hot().served - before };
}
function expectExact(idx: Idx, got: { key?: string; distance?: number }[], q: number[], k: number) {
  const want = exact(idx, q, k);
  expect(got.map((h) => h.key)).toEqual(want.map((h) => h.key));
  got.forEach((h, i) => expect(h.distance).toBeCloseTo(want[i].distance, 4));
}
async function untilReady(idx: Idx) {
  const until = Date.now() + 90_000;
  for (;;) {
    const s = hot();
    const ready = Object.values(s.tables).filter((e) => e.phase === 'ready').length;
    // Ready for this index: a query is served by the hot index.
    const { served: n } = await served(() => query(idx, randomVector()));
    if (n === 1) return;
    if (Date.now() > until) throw new Error(`not ready: ${JSON.stringify(s)} ${ready}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
async function newIndex(metric: 'euclidean' | 'cosine', rows: [string, number[]][]): Promise<Idx> {
  const idx: Idx = { ref: { vectorBucketName: uniqueName('rh'), indexName: 'idx' }, metric, truth: new Map() };
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: idx.ref.vectorBucketName }));
  await t.client.send(new CreateIndexCommand({ ...idx.ref, dataType: 'float32', dimension, distanceMetric: metric }));
  for (let i = 0; i < rows.length; i += 200) await put(idx, rows.slice(i, i + 200));
  await untilReady(idx);
  return idx;
}

const odd = ['é', 'e\u0301', '日本語キー', '😀🎉', 'a b\tc', 'ключ', '\u{10FFFF}z', 'ÿ'.repeat(300)];

beforeAll(async () => {
  t = await startTestService({ persistCatalog: true, keepData: true });
});
afterAll(async () => {
  await t?.close();
});

describe('euclidean', () => {
  let idx: Idx;
  beforeAll(async () => {
    const rows: [string, number[]][] = [];
    for (let i = 0; i < 200; i++) rows.push([`v${i}`, randomVector()]);
    odd.forEach((k) => rows.push([k, randomVector()]));
    idx = await newIndex('euclidean', rows);
  });

  it('odd Unicode keys from the snapshot come back byte-exact', async () => {
    for (const key of odd) {
      const q = idx.truth.get(key)!.v;
      const { result, served: n } = await served(() => query(idx, q, 3, { returnMetadata: true }));
      expect(n).toBe(1);
      expect(result[0].key).toBe(key);
      expect(result[0].metadata).toEqual({ key });
      expectExact(idx, result, q, 3);
    }
  });

  it('duplicate keys in one PutVectors: the query agrees with what GetVectors returns', async () => {
    for (const key of ['dup-new', 'v5']) {
      const a = randomVector();
      const b = randomVector();
      await t.client.send(new PutVectorsCommand({ ...idx.ref, vectors: [
        { key, data: { float32: a }, metadata: { n: 1 } },
        { key, data: { float32: b }, metadata: { n: 2 } },
      ] }));
      const got = await t.client.send(new GetVectorsCommand({ ...idx.ref, keys: [key], returnData: true, returnMetadata: true }));
      expect(got.vectors).toHaveLength(1);
      const stored = got.vectors![0];
      idx.truth.set(key, { v: stored.data!.float32!, m: stored.metadata as Record<string, unknown> });
      for (const q of [a, b]) {
        const { result, served: n } = await served(() => query(idx, q, 5, { returnMetadata: true }));
        expect(n).toBe(1);
        expectExact(idx, result, q, 5);
        const hit = result.find((h) => h.key === key);
        if (hit) expect(hit.metadata).toEqual(stored.metadata);
      }
      {
        const { result } = await served(() => query(idx, stored.data!.float32!, 1, { returnMetadata: true }));
        expect(result[0]).toMatchObject({ key, metadata: stored.metadata });
      }
    }
  });

  it('a metadata-only overwrite of a snapshot key shows the new metadata', async () => {
    const key = 'v7';
    const v = idx.truth.get(key)!.v;
    await put(idx, [[key, v, { changed: true, n: 42 }]]);
    const { result, served: n } = await served(() => query(idx, v, 3, { returnMetadata: true }));
    expect(n).toBe(1);
    expect(result[0]).toMatchObject({ key, metadata: { changed: true, n: 42 } });
  });

  it('returnDistance false and returnMetadata false: keys only', async () => {
    const q = randomVector();
    const { result, served: n } = await served(() => query(idx, q, 4, { returnDistance: false }));
    expect(n).toBe(1);
    expect(result.map((h) => h.key)).toEqual(exact(idx, q, 4).map((h) => h.key));
    for (const h of result) {
      expect(h.distance).toBeUndefined();
      expect(h.metadata).toBeUndefined();
    }
  });

  it('deleting a key not present changes nothing and does not drop', async () => {
    const drops = hot().drops;
    await del(idx, ['never-was', 'nor-this-😀']);
    const q = randomVector();
    const { result, served: n } = await served(() => query(idx, q, 10));
    expect(n).toBe(1);
    expectExact(idx, result, q, 10);
    expect(hot().drops).toBe(drops);
  });

  it('topK 100 after deleting most snapshot rows: every remaining row, exactly', async () => {
    const victims = [...idx.truth.keys()].filter((k) => k.startsWith('v')).slice(0, 190);
    for (let i = 0; i < victims.length; i += 100) await del(idx, victims.slice(i, i + 100));
    expect(idx.truth.size).toBeLessThan(100);
    for (let i = 0; i < 5; i++) {
      const q = randomVector();
      const { result, served: n } = await served(() => query(idx, q, 100, { returnMetadata: true }));
      expect(n).toBe(1);
      expect(result.length).toBe(idx.truth.size);
      expectExact(idx, result, q, 100);
    }
  });
});

describe('cosine with near-zero vectors', () => {
  let idx: Idx;
  const tiny = (i: number) => Array.from({ length: dimension }, (_, j) => (j === i % dimension ? Math.fround(1e-30) : 0));
  beforeAll(async () => {
    const rows: [string, number[]][] = [];
    for (let i = 0; i < 100; i++) rows.push([`c${i}`, randomVector()]);
    for (let i = 0; i < 4; i++) rows.push([`tiny${i}`, tiny(i)]);
    idx = await newIndex('cosine', rows);
  });

  it('ranks near-zero vectors (snapshot and delta) by their direction, like the exact search', async () => {
    await put(idx, [['tiny-delta', tiny(5)]]);
    for (const axis of [0, 1, 5]) {
      const q = Array.from({ length: dimension }, (_, j) => (j === axis ? 1 : 0));
      const { result, served: n } = await served(() => query(idx, q, 3));
      expect(n).toBe(1);
      expectExact(idx, result, q, 3);
    }
  });
});

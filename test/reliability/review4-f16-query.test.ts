// review4: the hot index stores f16 by default (d74a608) and checks the magnitude of the STORED
// vectors only. A query vector is cast to the index's f16 too: a cosine query whose numbers are
// beyond f16 (> 65504: inf) or below its subnormals (< 6e-8: 0) ranks garbage in HNSW, while
// cosine does not depend on the query's scale at all. The exact answer (brute force over what was
// written, = LanceDB's) must come back whatever the query's scale.
import { CreateIndexCommand, CreateVectorBucketCommand, PutVectorsCommand, QueryVectorsCommand } from '@aws-sdk/client-s3vectors';
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import type { HotStats } from '../../lambdas/adapters/hot/hot-indexes';
import { startTestService, uniqueName, type TestService } from '../helpers/service';

jest.setTimeout(240_000);

const dimension = 16;
const count = 3000;
let seed = 7;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0), seed / 4294967296 - 0.5);
const vec = () => Array.from({ length: dimension }, rnd).map(Math.fround);

let t: TestService;
const ref = { vectorBucketName: uniqueName('rv4f16'), indexName: 'cos' };
const rows = new Map<string, number[]>();
const hot = (): HotStats => (t.service.deps.store as LanceVectorStore).hotStats()!;

function cosineTop(q: number[], k: number): string[] {
  const qn = Math.hypot(...q);
  return [...rows]
    .map(([key, v]) => ({ key, d: 1 - v.reduce((s, x, i) => s + x * q[i], 0) / (qn * Math.hypot(...v)) }))
    .sort((a, b) => a.d - b.d || (a.key < b.key ? -1 : 1))
    .slice(0, k)
    .map((h) => h.key);
}

async function query(q: number[], k: number, filter?: Record<string, unknown>) {
  const out = await t.client.send(new QueryVectorsCommand({ ...ref, queryVector: { float32: q }, topK: k, returnDistance: true, ...(filter ? { filter: filter as never } : {}) }));
  return out.vectors!.map((v) => v.key!);
}

beforeAll(async () => {
  // f16 named explicitly: the default is f32 (f16 loses neighbours on offset data, below).
  t = await startTestService({ env: { S3V_HOT_MIN_ROWS: '1', S3V_HOT_QUIET_MS: '300', S3V_HOT_BUILD_THREADS: '1', S3V_HOT_QUANTIZATION: 'f16' } });
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: ref.vectorBucketName }));
  await t.client.send(new CreateIndexCommand({ ...ref, dataType: 'float32', dimension, distanceMetric: 'cosine' }));
  for (let s = 0; s < count; s += 500) {
    const vectors = [];
    for (let i = s; i < s + 500; i++) {
      const v = vec();
      rows.set(`k${i}`, v);
      vectors.push({ key: `k${i}`, data: { float32: v }, metadata: { g: i % 2 } });
    }
    await t.client.send(new PutVectorsCommand({ ...ref, vectors }));
  }
  const until = Date.now() + 150_000;
  for (;;) {
    await query(vec(), 1);
    const table = Object.values(hot().tables)[0];
    if (table?.phase === 'ready') break;
    if (Date.now() > until) throw new Error(`hot index not ready: ${JSON.stringify(hot())}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});
afterAll(async () => t?.close());

// The same direction at scale 1 (control), 1e6 (inf in f16) and 1e-9 (0 in f16).
it.each([1, 1e6, 1e-9])('a cosine query scaled by %p gets the exact top 10 from the hot index', async (scale) => {
  let wrong = 0;
  const detail: string[] = [];
  const servedBefore = hot().served;
  for (let i = 0; i < 10; i++) {
    const base = vec();
    const q = base.map((x) => Math.fround(x * scale));
    const want = cosineTop(base, 10);
    const got = await query(q, 10);
    const missing = want.filter((k) => !got.includes(k)).length;
    if (missing > 2) {
      wrong++;
      detail.push(`missing ${missing}/10`);
    }
  }
  expect(hot().served - servedBefore).toBe(10); // the hot index answered
  expect({ scale, wrong, detail }).toEqual({ scale, wrong: 0, detail: [] });
});

// Stored vectors that f16 holds in range but not apart: euclidean points around 1000 (f16's step
// there is 0.5) that differ by hundredths, e.g. readings or coordinates with an offset. The magnitude
// check passes (1000 < 65504), so the table is f16, and its HNSW graph sees most points as equal.
// With the server's default quantization (f32): f16 is opt-in because of this case.
describe('euclidean data with an offset larger than its spread', () => {
  let t2: TestService;
  const hot2 = (): HotStats => (t2.service.deps.store as LanceVectorStore).hotStats()!;
  const ref2 = { vectorBucketName: uniqueName('rv4off'), indexName: 'offset' };
  const points = new Map<string, number[]>();
  const off = () => Array.from({ length: 4 }, () => Math.fround(1000 + (rnd() + 0.5) * 0.4));
  afterAll(async () => t2?.close());
  beforeAll(async () => {
    t2 = await startTestService({ env: { S3V_HOT_MIN_ROWS: '1', S3V_HOT_QUIET_MS: '300', S3V_HOT_BUILD_THREADS: '1' } });
    await t2.client.send(new CreateVectorBucketCommand({ vectorBucketName: ref2.vectorBucketName }));
    await t2.client.send(new CreateIndexCommand({ ...ref2, dataType: 'float32', dimension: 4, distanceMetric: 'euclidean' }));
    for (let s = 0; s < 3000; s += 500) {
      const vectors = [];
      for (let i = s; i < s + 500; i++) {
        const v = off();
        points.set(`p${i}`, v);
        vectors.push({ key: `p${i}`, data: { float32: v } });
      }
      await t2.client.send(new PutVectorsCommand({ ...ref2, vectors }));
    }
    const until = Date.now() + 150_000;
    for (;;) {
      await t2.client.send(new QueryVectorsCommand({ ...ref2, queryVector: { float32: off() }, topK: 1 }));
      if (Object.values(hot2().tables).filter((x) => x.phase === 'ready').length === 1) break;
      if (Date.now() > until) throw new Error(`hot index not ready: ${JSON.stringify(hot2())}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  it('gets (nearly) the exact top 10 from the hot index', async () => {
    const servedBefore = hot2().served;
    const misses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const q = off();
      const want = [...points].map(([key, v]) => ({ key, d: v.reduce((s, x, j) => s + (x - q[j]) ** 2, 0) })).sort((a, b) => a.d - b.d).slice(0, 10).map((h) => h.key);
      const out = await t2.client.send(new QueryVectorsCommand({ ...ref2, queryVector: { float32: q }, topK: 10 }));
      const got = out.vectors!.map((v) => v.key!);
      misses.push(want.filter((k) => !got.includes(k)).length);
    }
    expect(hot2().served - servedBefore).toBe(10);
    // recall@10 ≥ 0.8 on average: f32 gets 1.0 here.
    expect({ misses, total: misses.reduce((a, b) => a + b, 0) <= 20 }).toEqual({ misses, total: true });
  });

  // A euclidean query beyond f16's range (inf once cast): the hot index must not rank it (LanceDB does).
  it('answers a euclidean query beyond f16 range exactly', async () => {
    const q = [70000, 70000.5, 69000, 71000].map(Math.fround);
    const want = [...points].map(([key, v]) => ({ key, d: v.reduce((s, x, j) => s + (x - q[j]) ** 2, 0) })).sort((a, b) => a.d - b.d).slice(0, 10).map((h) => h.key);
    const out = await t2.client.send(new QueryVectorsCommand({ ...ref2, queryVector: { float32: q }, topK: 10 }));
    expect(out.vectors!.map((v) => v.key!).filter((k) => !want.includes(k)).length).toBeLessThanOrEqual(1);
  });
});

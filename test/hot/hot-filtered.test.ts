// Filtered QueryVectors served by the hot index give LanceDB's answers. Three real servers get the
// same writes: A with the hot index off (LanceDB answers), B with it on (exact search over a
// filter's matches), C with it on and exact search off (HNSW over-fetch). A seeded battery of
// filters (every operator, $and/$or, lists, mixed types, missing and non-filterable keys) is asked
// of all three, before and after writes and deletes that follow the snapshot; B's and C's
// counters prove the hot index answered (a bypass to LanceDB fails the test).
import { CreateIndexCommand, CreateVectorBucketCommand, DeleteVectorsCommand, PutVectorsCommand, QueryVectorsCommand } from '@aws-sdk/client-s3vectors';
type DocumentType = never;
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import type { HotStats } from '../../lambdas/adapters/hot/hot-indexes';
import { startTestService, uniqueName, type TestService } from '../helpers/service';

jest.setTimeout(180_000);

const HOT = { S3V_HOT_MIN_ROWS: '1', S3V_HOT_QUIET_MS: '300', S3V_HOT_BUILD_THREADS: '1', S3V_HOT_DELTA_MAX: '500' };
const dimension = 8;
const count = 700;
let seed = 12345;
/** mulberry32: seeded, so a failure replays. */
const rnd = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
};
const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
const vector = () => Array.from({ length: dimension }, () => Math.fround(rnd() - 0.5));

const STRINGS = ['a', 'ab', 'abc', 'b', 'B', 'é', 'e\u0301', '', '5', 'true', 'a"b', 'a\\b'];
const scalar = (): string | number | boolean => {
  const r = rnd();
  if (r < 0.45) return pick(STRINGS);
  if (r < 0.8) return pick([-3, 0, 1, 2, 5, 7, 10, 1.5, -0.25, 1e9]);
  return rnd() < 0.5;
};
const value = () => (rnd() < 0.25 ? Array.from({ length: 1 + Math.floor(rnd() * 3) }, scalar) : scalar());
const KEYS = ['cat', 'n', 'tags', 'flag', 'note'];

function metadata(): Record<string, unknown> | undefined {
  if (rnd() < 0.05) return undefined;
  const doc: Record<string, unknown> = {};
  for (const key of KEYS) if (rnd() < 0.7) doc[key] = value();
  return doc;
}

// 'note' is non-filterable: a filter on it is refused (ValidationException) by both paths alike.
const FILTER_KEYS = ['cat', 'n', 'tags', 'flag', 'absent'];
function leaf(): Record<string, unknown> {
  const key = pick(FILTER_KEYS);
  const op = pick(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$startsWith', 'implicit']);
  const num = () => pick([-3, 0, 1, 2, 5, 7, 10, 1.5, -1]);
  switch (op) {
    case 'implicit':
      return { [key]: scalar() };
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      return { [key]: { [op]: num() } };
    case '$in':
    case '$nin':
      return { [key]: { [op]: Array.from({ length: 1 + Math.floor(rnd() * 3) }, scalar) } };
    case '$exists':
      return { [key]: { $exists: rnd() < 0.5 } };
    case '$startsWith':
      return { [key]: { $startsWith: pick(['a', 'ab', '', 'é', 'e', 'B', '5', 'a"']) } };
    default:
      return { [key]: { [op]: scalar() } };
  }
}
function filter(depth = 0): Record<string, unknown> {
  const r = rnd();
  if (depth < 2 && r < 0.3) return { [pick(['$and', '$or'])]: Array.from({ length: 2 + Math.floor(rnd() * 2) }, () => filter(depth + 1)) };
  if (depth < 2 && r < 0.4) return { ...leaf(), ...leaf() }; // two keys: an implicit $and (one may win on the same key)
  return leaf();
}

const servers: Record<'A' | 'B' | 'C', TestService> = {} as never;
const ref = { vectorBucketName: '', indexName: 'filtered' };
const stats = (s: 'B' | 'C'): HotStats => (servers[s].service.deps.store as LanceVectorStore).hotStats()!;
const deleted = new Set<string>();

async function all(run: (t: TestService) => Promise<unknown>): Promise<void> {
  for (const t of Object.values(servers)) await run(t);
}

async function ask(t: TestService, q: number[], f: Record<string, unknown>, topK: number, returnMetadata: boolean) {
  const out = await t.client.send(new QueryVectorsCommand({ ...ref, queryVector: { float32: q }, topK, filter: f as DocumentType, returnDistance: true, returnMetadata }));
  return out.vectors!.map((v) => ({ key: v.key!, distance: v.distance!, metadata: v.metadata }));
}

async function untilReady(s: 'B' | 'C'): Promise<void> {
  const until = Date.now() + 90_000;
  while (Object.values(stats(s).tables)[0]?.phase !== 'ready') {
    if (Date.now() > until) throw new Error(`hot index not ready: ${JSON.stringify(stats(s))}`);
    await ask(servers[s], vector(), { cat: 'a' }, 1, false).catch(() => undefined);
    await servers[s].client.send(new QueryVectorsCommand({ ...ref, queryVector: { float32: vector() }, topK: 1 }));
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs the battery; B must equal A exactly, C (approximate by design) nearly always. */
async function battery(rounds: number): Promise<{ differentC: number }> {
  const before = { B: stats('B'), C: stats('C') };
  let differentC = 0;
  for (let i = 0; i < rounds; i++) {
    const f = filter();
    const q = vector();
    const topK = pick([1, 5, 10, 30]);
    const withMetadata = rnd() < 0.5;
    const [a, b, c] = await Promise.all([ask(servers.A, q, f, topK, withMetadata), ask(servers.B, q, f, topK, withMetadata), ask(servers.C, q, f, topK, withMetadata)]);
    const context = `filter ${JSON.stringify(f)} topK ${topK}`;
    expect({ context, keys: b.map((h) => h.key) }).toEqual({ context, keys: a.map((h) => h.key) });
    b.forEach((h, j) => expect(h.distance).toBeCloseTo(a[j].distance, 4));
    if (withMetadata) expect({ context, b: b.map((h) => h.metadata) }).toEqual({ context, b: a.map((h) => h.metadata) });
    for (const h of [...b, ...c]) expect(deleted.has(h.key)).toBe(false);
    // C: every hit a real match at its true distance (A's answer ranks all matches).
    if (JSON.stringify(c.map((h) => h.key)) !== JSON.stringify(a.map((h) => h.key))) differentC++;
    const truth = new Map(a.map((h) => [h.key, h]));
    for (const h of c) if (truth.has(h.key)) expect(h.distance).toBeCloseTo(truth.get(h.key)!.distance, 4);
    if (withMetadata) for (const h of c) if (truth.has(h.key)) expect(h.metadata).toEqual(truth.get(h.key)!.metadata);
  }
  const after = { B: stats('B'), C: stats('C') };
  // Not one filtered query of B went to LanceDB; C's all went to the HNSW path (or a counted fallback).
  expect(after.B.servedFilteredExact - before.B.servedFilteredExact).toBe(rounds);
  expect(after.B.filteredFallbacks - before.B.filteredFallbacks).toBe(0);
  const c = (x: HotStats) => x.servedFilteredHnsw + x.servedFilteredExact + x.filteredFallbacks;
  // (C's exact searches: filters that match no snapshot row.)
  expect(c(after.C) - c(before.C)).toBe(rounds);
  expect(after.C.servedFilteredHnsw - before.C.servedFilteredHnsw).toBeGreaterThan(rounds * 0.6);
  return { differentC };
}

beforeAll(async () => {
  servers.A = await startTestService({ env: { S3V_HOT_INDEX_MB: '0' } });
  servers.B = await startTestService({ env: HOT });
  servers.C = await startTestService({ env: { ...HOT, S3V_HOT_FILTER_EXACT_MAX: '0', S3V_HOT_FILTER_MAX_WANT: '800' } });
  ref.vectorBucketName = uniqueName('hotf');
  await all((t) => t.client.send(new CreateVectorBucketCommand({ vectorBucketName: ref.vectorBucketName })));
  await all((t) =>
    t.client.send(new CreateIndexCommand({ ...ref, dataType: 'float32', dimension, distanceMetric: 'euclidean', metadataConfiguration: { nonFilterableMetadataKeys: ['note'] } })),
  );
  const vectors = Array.from({ length: count }, (_, i) => ({ key: `k${i}`, data: { float32: vector() }, metadata: metadata() as DocumentType }));
  for (let i = 0; i < count; i += 250) await all((t) => t.client.send(new PutVectorsCommand({ ...ref, vectors: vectors.slice(i, i + 250) })));
  await untilReady('B');
  await untilReady('C');
});

afterAll(async () => {
  for (const t of Object.values(servers)) await t?.close();
});

it('answers a battery of filters from the hot index exactly as LanceDB does', async () => {
  const { differentC } = await battery(120);
  expect(differentC).toBeLessThanOrEqual(6);
});

it('still does after puts, overwrites (new metadata and vectors) and deletes that follow the snapshot', async () => {
  const overwrite = Array.from({ length: 60 }, () => ({ key: `k${Math.floor(rnd() * count)}`, data: { float32: vector() }, metadata: metadata() as DocumentType }));
  const fresh = Array.from({ length: 40 }, (_, i) => ({ key: `new${i}`, data: { float32: vector() }, metadata: metadata() as DocumentType }));
  await all((t) => t.client.send(new PutVectorsCommand({ ...ref, vectors: [...overwrite, ...fresh].filter((v, i, xs) => xs.findIndex((o) => o.key === v.key) === i) })));
  const gone = [...Array.from({ length: 30 }, () => `k${Math.floor(rnd() * count)}`), 'new1', 'new2', overwrite[0].key];
  await all((t) => t.client.send(new DeleteVectorsCommand({ ...ref, keys: [...new Set(gone)] })));
  for (const key of gone) deleted.add(key);
  // A snapshot key's new metadata (one vector for all three servers): a filter on its old value must not find it.
  const moved = { key: 'k699', data: { float32: vector() }, metadata: { cat: 'moved' } };
  await all((t) => t.client.send(new PutVectorsCommand({ ...ref, vectors: [moved] })));
  for (const s of ['B', 'C'] as const) expect({ s, ...stats(s) }).toMatchObject({ s, drops: 0 });
  expect(Object.values(stats('B').tables)[0].delta).toBeGreaterThan(50);
  const { differentC } = await battery(120);
  expect(differentC).toBeLessThanOrEqual(6);
  const found = await ask(servers.B, vector(), { cat: 'moved' }, 5, true);
  expect(found).toEqual([expect.objectContaining({ key: 'k699', metadata: { cat: 'moved' } })]);
});

// The hot in-memory index (lambdas/adapters/hot) through the real SDK against the real server:
// answers equal the exact search while the hot index serves them (its counter says so), writes
// after the snapshot are seen at once (the delta), an overflowing delta falls back to LanceDB,
// filtered queries are served too, DeleteIndex drops it, and a restart loads the saved snapshot instead of rebuilding it.
import { statSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateIndexCommand,
  CreateVectorBucketCommand,
  DeleteIndexCommand,
  DeleteVectorsCommand,
  PutVectorsCommand,
  QueryVectorsCommand,
} from '@aws-sdk/client-s3vectors';
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import type { HotStats } from '../../lambdas/adapters/hot/hot-indexes';
import { startTestService, uniqueName, type TestService } from '../helpers/service';

jest.setTimeout(120_000);

const DELTA_MAX = 60;
Object.assign(process.env, { S3V_HOT_MIN_ROWS: '1', S3V_HOT_QUIET_MS: '300', S3V_HOT_DELTA_MAX: String(DELTA_MAX), S3V_HOT_BUILD_THREADS: '1' });

const dimension = 8;
const count = 400;
let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648 - 0.5);
const randomVector = () => Array.from({ length: dimension }, rnd).map(Math.fround);

let t: TestService;
const ref = { vectorBucketName: '', indexName: 'hot' };
/** What the index holds, as the test wrote it: the reference for exact answers. */
const truth = new Map<string, number[]>();

const store = () => t.service.deps.store as LanceVectorStore;
const hot = (): HotStats => store().hotStats()!;
const only = (s: HotStats) => Object.values(s.tables)[0];

function exact(q: number[], k: number): { key: string; distance: number }[] {
  return [...truth]
    .map(([key, v]) => ({ key, distance: Math.sqrt(v.reduce((s, x, i) => s + (x - q[i]) ** 2, 0)) }))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, k);
}

async function query(q: number[], topK = 10, returnMetadata = false) {
  const out = await t.client.send(new QueryVectorsCommand({ ...ref, queryVector: { float32: q }, topK, returnDistance: true, returnMetadata }));
  return out.vectors!.map((v) => ({ key: v.key!, distance: v.distance!, metadata: v.metadata }));
}

async function put(entries: [string, number[]][]) {
  await t.client.send(new PutVectorsCommand({ ...ref, vectors: entries.map(([key, v]) => ({ key, data: { float32: v }, metadata: { key } })) }));
  for (const [key, v] of entries) truth.set(key, v);
}

/** Queries until the hot index serves (a query makes the server look at the table). */
async function untilReady(): Promise<void> {
  const until = Date.now() + 60_000;
  while (only(hot())?.phase !== 'ready') {
    if (Date.now() > until) throw new Error(`hot index not ready: ${JSON.stringify(hot())}`);
    await query(randomVector());
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The answer equals the exact search (same keys, distances to float precision). */
function expectExact(got: { key: string; distance: number }[], q: number[], k = 10) {
  const want = exact(q, k);
  expect(got.map((h) => h.key)).toEqual(want.map((h) => h.key));
  got.forEach((h, i) => expect(h.distance).toBeCloseTo(want[i].distance, 4));
}

async function served<T>(run: () => Promise<T>): Promise<{ result: T; served: number }> {
  const before = hot().served;
  const result = await run();
  return { result, served: hot().served - before };
}

beforeAll(async () => {
  t = await startTestService({ persistCatalog: true, keepData: true });
  ref.vectorBucketName = uniqueName('hot');
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: ref.vectorBucketName }));
  await t.client.send(new CreateIndexCommand({ ...ref, dataType: 'float32', dimension, distanceMetric: 'euclidean' }));
  const entries: [string, number[]][] = [];
  for (let i = 0; i < count; i++) entries.push([`v${i}`, randomVector()]);
  for (let i = 0; i < count; i += 200) await put(entries.slice(i, i + 200));
  await untilReady();
});

afterAll(async () => {
  await t?.close();
});

it('answers unfiltered queries from the hot index, equal to the exact search, metadata included', async () => {
  for (let i = 0; i < 20; i++) {
    const q = randomVector();
    const { result, served: n } = await served(() => query(q));
    expect(n).toBe(1);
    expectExact(result, q);
  }
  const q = randomVector();
  const { result, served: n } = await served(() => query(q, 5, true));
  expect(n).toBe(1);
  expectExact(result, q, 5);
  for (const hit of result) expect(hit.metadata).toEqual({ key: hit.key });
});

it('sees a put, an overwrite and a delete at once while the hot index serves', async () => {
  const q = randomVector();
  // A new key right at the query: first, at its own distance.
  const near = q.map((x) => Math.fround(x + 0.001));
  await put([['new-near', near]]);
  let { result, served: n } = await served(() => query(q, 10, true));
  expect(n).toBe(1);
  expect(result[0]).toMatchObject({ key: 'new-near', metadata: { key: 'new-near' } });
  expectExact(result, q);

  // Overwrite the old nearest snapshot key far away: it leaves the answer (a stale snapshot keeps it).
  const victim = result[1].key;
  await put([[victim, q.map(() => 40)]]);
  ({ result, served: n } = await served(() => query(q)));
  expect(n).toBe(1);
  expect(result.map((h) => h.key)).not.toContain(victim);
  expectExact(result, q);
  // ... and its new vector is found at the new distance.
  const at = q.map(() => 40);
  ({ result } = await served(() => query(at, 1)));
  expect(result[0].key).toBe(victim);
  expect(result[0].distance).toBeCloseTo(0, 5);

  // Delete a snapshot key and the delta key: neither comes back.
  const snapshotKey = result.length ? exact(q, 2)[1].key : '';
  await t.client.send(new DeleteVectorsCommand({ ...ref, keys: ['new-near', snapshotKey] }));
  truth.delete('new-near');
  truth.delete(snapshotKey);
  ({ result, served: n } = await served(() => query(q)));
  expect(n).toBe(1);
  expect(result.map((h) => h.key)).not.toContain('new-near');
  expect(result.map((h) => h.key)).not.toContain(snapshotKey);
  expectExact(result, q);
  expect(only(hot()).phase).toBe('ready');
});

it('overwriting one key many times keeps one live delta vector, the last', async () => {
  const q = randomVector();
  const touched = only(hot()).delta!;
  for (let i = 0; i < 80; i++) await put([['hopper', q.map((x) => Math.fround(x + (i === 79 ? 0 : 5 + i)))]]);
  const { result, served: n } = await served(() => query(q));
  expect(n).toBe(1);
  expect(result[0]).toMatchObject({ key: 'hopper' });
  expect(result[0].distance).toBeCloseTo(0, 5);
  expect(result.filter((h) => h.key === 'hopper')).toHaveLength(1);
  expectExact(result, q);
  expect(only(hot())).toMatchObject({ phase: 'ready', delta: touched + 1 });
});

it('stays exact through rounds of concurrent puts, overwrites and deletes (group commits)', async () => {
  const before = hot().drops;
  for (let round = 0; round < 6; round++) {
    // Distinct keys per round: the calls commute, so the final state is known whatever the commit order.
    const keys = [...truth.keys()].filter((k) => k.startsWith('v')).slice(round * 6, round * 6 + 6);
    const ops: Promise<unknown>[] = [];
    ops.push(put([[keys[0], randomVector()]]), put([[`r${round}a`, randomVector()], [keys[1], randomVector()]]), put([[`r${round}b`, randomVector()]]));
    ops.push(t.client.send(new DeleteVectorsCommand({ ...ref, keys: [keys[2], keys[3]] })).then(() => (truth.delete(keys[2]), truth.delete(keys[3]))));
    await Promise.all(ops);
    for (let i = 0; i < 3; i++) {
      const q = i === 0 ? truth.get(`r${round}a`)! : randomVector();
      const { result, served: n } = await served(() => query(q));
      expect(n).toBe(1);
      expectExact(result, q);
    }
  }
  // Calls started in one tick queue behind the lock and commit as one group (put-path.ts): each
  // call's rows reach the delta, in order. (Straight to the store: the SDK cannot time a group.)
  const index = (await t.service.deps.catalog.getIndex(ref.vectorBucketName, ref.indexName))!;
  const v0 = (await store().tableStats(index))!.version;
  const group: [string, number[]][][] = [[['g1', randomVector()]], [['g2', randomVector()], ['v40', randomVector()]], [['g1', randomVector()]]];
  await Promise.all(group.map((entries) => store().put(index, { keys: entries.map(([k]) => k), data: Float32Array.from(entries.flatMap(([, v]) => v)), metadata: entries.map(() => undefined) })));
  for (const entries of group) for (const [k, v] of entries) truth.set(k, v);
  expect((await store().tableStats(index))!.version - v0).toBeLessThan(group.length); // a group formed
  for (const q of [truth.get('g1')!, truth.get('g2')!, truth.get('v40')!]) {
    const { result, served: n } = await served(() => query(q));
    expect(n).toBe(1);
    expectExact(result, q);
  }
  expect(hot().drops).toBe(before);
});

it('falls back to LanceDB when the delta outgrows its bound, then rebuilds', async () => {
  const drops = hot().drops;
  const burst: [string, number[]][] = [];
  for (let i = 0; i < DELTA_MAX + 5; i++) burst.push([`burst${i}`, randomVector()]);
  await put(burst);
  expect(hot().drops).toBe(drops + 1);
  expect(only(hot()).phase).not.toBe('ready');
  const q = burst[3][1];
  const { result, served: n } = await served(() => query(q));
  expect(n).toBe(0);
  expect(result[0].key).toBe('burst3');
  expectExact(result, q);
  // A quiet period later the table is snapshotted again, with the burst in it.
  await untilReady();
  expect(only(hot()).delta).toBe(0);
  const again = await served(() => query(q));
  expect(again.served).toBe(1);
  expectExact(again.result, q);
});

it('keeps its snapshot on disk (mode 0600) and loads it after a restart instead of rebuilding', async () => {
  const dir = join(t.dataDir, 'vectors', '_hot');
  const files = readdirSync(dir);
  expect(files.filter((f) => f.endsWith('.usearch'))).toHaveLength(1);
  for (const f of files) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
  const dataDir = t.dataDir;
  await t.close();
  t = await startTestService({ dataDir, persistCatalog: true, keepData: true });
  await untilReady();
  expect(hot()).toMatchObject({ builds: 0, loads: 1 });
  const q = randomVector();
  const { result, served: n } = await served(() => query(q));
  expect(n).toBe(1);
  expectExact(result, q);
});

it('rebuilds instead of loading a saved snapshot when the table changed while the server was down', async () => {
  const dataDir = t.dataDir;
  await t.close();
  // A server without the hot index writes meanwhile (the saved snapshot's version is now stale).
  process.env.S3V_HOT_INDEX_MB = '0';
  t = await startTestService({ dataDir, persistCatalog: true, keepData: true });
  delete process.env.S3V_HOT_INDEX_MB;
  const offline = randomVector();
  await put([['offline', offline]]);
  await t.close();
  t = await startTestService({ dataDir, persistCatalog: true, keepData: true });
  await untilReady();
  expect(hot()).toMatchObject({ builds: 1, loads: 0 });
  const { result, served: n } = await served(() => query(offline));
  expect(n).toBe(1);
  expect(result[0]).toMatchObject({ key: 'offline' });
  expectExact(result, offline);
});

it('serves filtered queries too (exact over the few matches; test/hot/hot-filtered covers every operator)', async () => {
  const q = randomVector();
  const { result, served: n } = await served(async () =>
    (await t.client.send(new QueryVectorsCommand({ ...ref, queryVector: { float32: q }, topK: 3, filter: { key: { $in: ['v1', 'v2', 'v3', 'v4'] } }, returnDistance: true }))).vectors!,
  );
  expect(n).toBe(1);
  expect(result.map((v) => v.key)).toEqual(exact(q, truth.size).filter((h) => ['v1', 'v2', 'v3', 'v4'].includes(h.key)).slice(0, 3).map((h) => h.key));
});

it('DeleteIndex drops the hot index and its files', async () => {
  const dir = join(t.dataDir, 'vectors', '_hot');
  const [storageId] = Object.keys(hot().tables);
  expect(readdirSync(dir).some((f) => f.startsWith(storageId))).toBe(true);
  await t.client.send(new DeleteIndexCommand(ref));
  expect(hot().tables[storageId]).toBeUndefined();
  expect(existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith(storageId)) : []).toEqual([]);
  // The same name again: a new, empty index, nothing answered from the old snapshot.
  await t.client.send(new CreateIndexCommand({ ...ref, dataType: 'float32', dimension, distanceMetric: 'euclidean' }));
  const { result, served: n } = await served(() => query(randomVector()));
  expect(n).toBe(0);
  expect(result).toEqual([]);
});

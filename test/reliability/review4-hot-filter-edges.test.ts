// review4: filtered QueryVectors through the hot index (hot-filter.ts) against LanceDB's answer
// (a server with the hot index off), on metadata edges the seeded battery of hot-filtered does not
// reach: huge/tiny/negative-zero numbers (JSON text forms like 1e+21 and 100000000000000000000),
// integers past 2^53, keys with dots/unicode/quotes, astral strings, booleans against strings.
import { CreateIndexCommand, CreateVectorBucketCommand, PutVectorsCommand, QueryVectorsCommand } from '@aws-sdk/client-s3vectors';
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import type { HotStats } from '../../lambdas/adapters/hot/hot-indexes';
import { startTestService, uniqueName, type TestService } from '../helpers/service';

jest.setTimeout(240_000);

const dimension = 4;
const ref = { vectorBucketName: uniqueName('rv4hf'), indexName: 'edges' };
let A: TestService; // hot off: LanceDB
let B: TestService; // hot on
const hot = (): HotStats => (B.service.deps.store as LanceVectorStore).hotStats()!;

const NUMS = [1e20, 1.5e19, 9223372036854775807, 18446744073709551615, 1e21, 1e-300, 5e-324, -0, 0, 1.7976931348623157e308, -1e20, 9007199254740993, 0.30000000000000004, -5e-324, 123456789012345680000];
const KEYS = ['n', 'a.b', 'é', '𝒳', 'q"k', 'sp ace'];
const STRS = ['x', '𝒳y', '\u00e9', 'e\u0301', '1', 'true', '', 'ＡＢ'];
const docs: Record<string, unknown>[] = [];
for (let i = 0; i < NUMS.length; i++) {
  const key = KEYS[i % KEYS.length];
  docs.push({ [key]: NUMS[i], n: NUMS[(i * 7) % NUMS.length], s: STRS[i % STRS.length] });
  docs.push({ [key]: [NUMS[i], STRS[i % STRS.length]], b: i % 2 === 0, s: [STRS[(i + 1) % STRS.length], true, 1] });
}

const filters: Record<string, unknown>[] = [];
for (const key of KEYS)
  for (const v of NUMS) {
    for (const op of ['$gt', '$gte', '$lt', '$lte', '$eq', '$ne']) filters.push({ [key]: { [op]: v } });
  }
for (const v of [...STRS, true, false, 1, '1']) filters.push({ s: v }, { s: { $ne: v } }, { b: v }, { s: { $in: [v, 1] } }, { s: { $nin: [v, true] } });
for (const p of ['𝒳', '\ud835', 'e', 'é', '', 'Ａ']) filters.push({ s: { $startsWith: p } }, { '𝒳': { $startsWith: p } });

async function all(ts: TestService[], run: (t: TestService) => Promise<unknown>) {
  for (const t of ts) await run(t);
}
async function keysOf(t: TestService, f: Record<string, unknown>): Promise<string> {
  try {
    const out = await t.client.send(new QueryVectorsCommand({ ...ref, queryVector: { float32: [1, 0.5, 0.25, 0.125] }, topK: 100, filter: f as never }));
    return out.vectors!.map((v) => v.key!).sort().join(',');
  } catch (e) {
    return `error ${(e as Error).name}: ${(e as Error).message}`;
  }
}

beforeAll(async () => {
  A = await startTestService({ env: { S3V_HOT_INDEX_MB: '0' } });
  B = await startTestService({ env: { S3V_HOT_MIN_ROWS: '1', S3V_HOT_QUIET_MS: '300', S3V_HOT_BUILD_THREADS: '1' } });
  await all([A, B], (t) => t.client.send(new CreateVectorBucketCommand({ vectorBucketName: ref.vectorBucketName })));
  await all([A, B], (t) => t.client.send(new CreateIndexCommand({ ...ref, dataType: 'float32', dimension, distanceMetric: 'euclidean' })));
  const vectors = docs.map((m, i) => ({ key: `k${i}`, data: { float32: [i, (i * 3) % 7, (i * 5) % 11, 1] }, metadata: m as never }));
  await all([A, B], (t) => t.client.send(new PutVectorsCommand({ ...ref, vectors })));
  const until = Date.now() + 120_000;
  while (Object.values(hot().tables)[0]?.phase !== 'ready') {
    if (Date.now() > until) throw new Error(`hot not ready ${JSON.stringify(hot())}`);
    await keysOf(B, { n: 1 });
    await new Promise((r) => setTimeout(r, 200));
  }
});
afterAll(async () => {
  await A?.close();
  await B?.close();
});

it('every filter gets the same matches from the hot index as from LanceDB', async () => {
  const served = hot().servedFilteredExact;
  const diffs: { f: string; lance: string; hot: string }[] = [];
  for (const f of filters) {
    const [a, b] = [await keysOf(A, f), await keysOf(B, f)];
    if (a !== b) diffs.push({ f: JSON.stringify(f), lance: a, hot: b });
  }
  expect(hot().servedFilteredExact - served).toBeGreaterThan(filters.length / 2);
  expect(diffs).toEqual([]);
});

it('and so do the same documents as delta rows (written after the snapshot), and overwrites', async () => {
  const vectors = docs.map((m, i) => ({ key: `d${i}`, data: { float32: [i, 1, (i * 5) % 11, 2] }, metadata: m as never }));
  // Snapshot rows get each other's metadata: the delta overrides them.
  const moved = docs.map((m, i) => ({ key: `k${i}`, data: { float32: [i, (i * 3) % 7, (i * 5) % 11, 1] }, metadata: docs[(i + 3) % docs.length] as never }));
  await all([A, B], (t) => t.client.send(new PutVectorsCommand({ ...ref, vectors: [...vectors, ...moved.filter((_, i) => i % 3 === 0)] })));
  expect(Object.values(hot().tables)[0].phase).toBe('ready');
  const served = hot().servedFilteredExact;
  const diffs: { f: string; lance: string; hot: string }[] = [];
  for (const f of filters) {
    const [a, b] = [await keysOf(A, f), await keysOf(B, f)];
    if (a !== b) diffs.push({ f: JSON.stringify(f), lance: a, hot: b });
  }
  expect(hot().servedFilteredExact - served).toBeGreaterThan(filters.length / 2);
  expect(diffs).toEqual([]);
});

it('a snapshot key deleted then put again (new vector, new metadata), and one put twice in a batch, match as in LanceDB', async () => {
  const { DeleteVectorsCommand } = await import('@aws-sdk/client-s3vectors');
  await all([A, B], (t) => t.client.send(new DeleteVectorsCommand({ ...ref, keys: ['k0', 'k1', 'k2'] })));
  await all([A, B], (t) => t.client.send(new PutVectorsCommand({ ...ref, vectors: [{ key: 'k1', data: { float32: [1, 0.5, 0.25, 0.125] }, metadata: { s: 'again', n: 7 } as never }] })));
  await all([A, B], (t) =>
    t.client.send(
      new PutVectorsCommand({
        ...ref,
        vectors: [
          { key: 'k3', data: { float32: [9, 9, 9, 9] }, metadata: { s: 'first' } as never },
          { key: 'k3', data: { float32: [1, 0.5, 0.25, 0.1] }, metadata: { s: 'second', n: 7 } as never },
        ],
      }),
    ).catch((e: Error) => e.name),
  );
  const extra = [{ s: 'again' }, { n: 7 }, { n: { $gte: 7, $lte: 7 } }, { s: 'first' }, { s: 'second' }, { s: { $ne: 'again' } }, { n: { $exists: false } }];
  const diffs: { f: string; lance: string; hot: string }[] = [];
  for (const f of [...extra, ...filters.slice(0, 200)]) {
    const [a, b] = [await keysOf(A, f), await keysOf(B, f)];
    if (a !== b) diffs.push({ f: JSON.stringify(f), lance: a, hot: b });
  }
  expect(Object.values(hot().tables)[0].phase).toBe('ready');
  expect(diffs).toEqual([]);
});

// Review of the hot index (review-hot): two tables settling at the same moment must not both take
// a budget that holds one of them (S3V_HOT_INDEX_MB).
import { CreateIndexCommand, CreateVectorBucketCommand, PutVectorsCommand, QueryVectorsCommand } from '@aws-sdk/client-s3vectors';
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { estimatedBytes } from '../../lambdas/adapters/hot/hot-config';
import { startTestService, uniqueName, type TestService } from '../helpers/service';

jest.setTimeout(240_000);
const dimension = 8;
const rows = 3000;
const deltaMax = 1000;
// Room for one table's estimate, not two.
const one = estimatedBytes(rows + deltaMax, dimension, 16);
Object.assign(process.env, { S3V_HOT_MIN_ROWS: '1', S3V_HOT_QUIET_MS: '400', S3V_HOT_DELTA_MAX: String(deltaMax), S3V_HOT_BUILD_THREADS: '1' });

let seed = 3;
// 32-bit integer LCG (a product in doubles past 2^53 loses bits and repeats vectors, and a table
// with repeated vectors is declined by the hot index: this test is about the budget only).
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff), seed / 2147483648 - 0.5);
let t: TestService;
const store = () => t.service.deps.store as LanceVectorStore;

afterAll(async () => {
  await t?.close();
});

it('two tables settling together: at most one is hot when the budget holds one', async () => {
  // S3V_HOT_INDEX_MB is an integer: scale the table so one estimate fits 1 MiB, two do not.
  expect(one).toBeLessThan(1024 * 1024);
  expect(2 * one).toBeGreaterThan(1024 * 1024);
  process.env.S3V_HOT_INDEX_MB = '1';
  t = await startTestService({ persistCatalog: true, keepData: true });
  const refs = [0, 1].map((i) => ({ vectorBucketName: uniqueName(`rhb${i}`), indexName: 'idx' }));
  for (const ref of refs) {
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: ref.vectorBucketName }));
    await t.client.send(new CreateIndexCommand({ ...ref, dataType: 'float32', dimension, distanceMetric: 'euclidean' }));
  }
  // Interleave the writes so both tables go quiet at the same time.
  for (let i = 0; i < rows; i += 500) {
    await Promise.all(refs.map((ref) => t.client.send(new PutVectorsCommand({ ...ref, vectors: Array.from({ length: 500 }, (_, j) => ({ key: `k${i + j}`, data: { float32: Array.from({ length: dimension }, rnd) } })) }))));
  }
  await Promise.all(refs.map((ref) => t.client.send(new QueryVectorsCommand({ ...ref, queryVector: { float32: Array.from({ length: dimension }, rnd) }, topK: 3 }))));
  // Both tables' checks run at once (as their quiet timers do when their writes end together):
  // take over the timers and start both checks in one tick once both are quiet.
  const hot = (store() as unknown as { hot: { entries: Map<string, { index: unknown; timer?: NodeJS.Timeout; seenVersion?: number }>; consider(i: unknown): void } }).hot;
  const seenUntil = Date.now() + 20_000;
  while ([...hot.entries.values()].filter((e) => e.seenVersion !== undefined).length < 2 && Date.now() < seenUntil) await new Promise((r) => setTimeout(r, 50));
  for (const e of hot.entries.values()) clearTimeout(e.timer);
  await new Promise((r) => setTimeout(r, 1500));
  for (const e of hot.entries.values()) clearTimeout(e.timer);
  for (const e of hot.entries.values()) (e as { nextCheckAt?: number }).nextCheckAt = 0;
  for (const e of hot.entries.values()) hot.consider(e.index);
  // Let both settle and (at most one) build. Sample until one is served: at no sample may both
  // hold the budget (building or ready). A loaded machine can take long to build, so the wait is
  // generous; the property is checked at every sample, not at one moment.
  const until = Date.now() + 120_000;
  let most = 0;
  let served = 0;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
    const tables = Object.values(store().hotStats()!.tables);
    most = Math.max(most, tables.filter((e) => e.phase === 'ready' || e.phase === 'building').length);
    served = tables.filter((e) => e.phase === 'ready').length;
    if (served >= 1) break;
  }
  // A little longer: the other table must not start a build into the taken budget.
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const tables = Object.values(store().hotStats()!.tables);
    most = Math.max(most, tables.filter((e) => e.phase === 'ready' || e.phase === 'building').length);
  }
  expect(most).toBeLessThanOrEqual(1);
  // And the one that fits is served.
  expect(served).toBe(1);
});

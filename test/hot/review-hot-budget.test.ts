// Review of the hot index (review-hot): two tables settling at the same moment must not both take
// a budget that holds one of them (S3V_HOT_INDEX_MB).
import { CreateIndexCommand, CreateVectorBucketCommand, PutVectorsCommand, QueryVectorsCommand } from '@aws-sdk/client-s3vectors';
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { estimatedBytes } from '../../lambdas/adapters/hot/hot-config';
import { startTestService, uniqueName, type TestService } from '../helpers/service';

jest.setTimeout(180_000);
const dimension = 8;
const rows = 3000;
const deltaMax = 1000;
// Room for one table's estimate, not two.
const one = estimatedBytes(rows + deltaMax, dimension, 16);
Object.assign(process.env, { S3V_HOT_MIN_ROWS: '1', S3V_HOT_QUIET_MS: '400', S3V_HOT_DELTA_MAX: String(deltaMax), S3V_HOT_BUILD_THREADS: '1' });

let seed = 3;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648 - 0.5);
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
  // Let both settle and (at most one) build.
  const until = Date.now() + 30_000;
  let ready = 0;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 500));
    const s = store().hotStats()!;
    ready = Object.values(s.tables).filter((e) => e.phase === 'ready' || e.phase === 'building').length;
    if (ready === 2) break;
    if (s.builds + s.loads >= 1 && Date.now() > until - 20_000) break;
  }
  expect(ready).toBeLessThanOrEqual(1);
  // And the one that fits is served.
  expect(Object.values(store().hotStats()!.tables).filter((e) => e.phase === 'ready')).toHaveLength(1);
});

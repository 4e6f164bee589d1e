// A table refused for the hot index budget (S3V_HOT_INDEX_MB) becomes hot by itself once the budget
// is freed (here: the table holding it is deleted), without a query or write of its own to look again.
import { CreateIndexCommand, CreateVectorBucketCommand, DeleteIndexCommand, PutVectorsCommand, QueryVectorsCommand } from '@aws-sdk/client-s3vectors';
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { estimatedBytes } from '../../lambdas/adapters/hot/hot-config';
import { startTestService, uniqueName, type TestService } from '../helpers/service';

jest.setTimeout(300_000);
const dimension = 8;
const rows = 3000;
const deltaMax = 1000;
const one = estimatedBytes(rows + deltaMax, dimension, 16, 'f32');
Object.assign(process.env, { S3V_HOT_MIN_ROWS: '1', S3V_HOT_QUIET_MS: '400', S3V_HOT_DELTA_MAX: String(deltaMax), S3V_HOT_BUILD_THREADS: '1', S3V_HOT_INDEX_MB: '1' });

let seed = 11;
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff), seed / 2147483648 - 0.5);
let t: TestService;
const store = () => t.service.deps.store as LanceVectorStore;
const phases = () => store().hotStats()!.tables;

afterAll(async () => {
  await t?.close();
});

async function until(what: string, ok: () => boolean, ms = 180_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(phases())}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

it('a table refused for the budget is built once the budget is released', async () => {
  expect(one).toBeLessThan(1024 * 1024);
  expect(2 * one).toBeGreaterThan(1024 * 1024);
  t = await startTestService({ persistCatalog: true, keepData: true });
  const [a, b] = [0, 1].map((i) => ({ vectorBucketName: uniqueName(`hbr${i}`), indexName: 'idx' }));
  const fill = async (ref: typeof a) => {
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: ref.vectorBucketName }));
    await t.client.send(new CreateIndexCommand({ ...ref, dataType: 'float32', dimension, distanceMetric: 'euclidean' }));
    for (let i = 0; i < rows; i += 500) {
      await t.client.send(new PutVectorsCommand({ ...ref, vectors: Array.from({ length: 500 }, (_, j) => ({ key: `k${i + j}`, data: { float32: Array.from({ length: dimension }, rnd) } })) }));
    }
  };
  await fill(a);
  await until('A ready', () => Object.values(phases()).some((e) => e.phase === 'ready'));
  const aId = Object.keys(phases()).find((id) => phases()[id].phase === 'ready')!;
  await fill(b);
  // B's own checks find the budget taken (it is never queried, so nothing else looks again).
  await new Promise((r) => setTimeout(r, 3000));
  const bId = () => Object.keys(phases()).find((id) => id !== aId);
  expect(bId()).toBeDefined();
  expect(phases()[bId()!].phase).toBe('waiting');
  await t.client.send(new DeleteIndexCommand(a));
  await until('B ready after A was deleted', () => phases()[bId()!]?.phase === 'ready');
  const hits = await t.client.send(new QueryVectorsCommand({ ...b, queryVector: { float32: Array.from({ length: dimension }, rnd) }, topK: 3 }));
  expect(hits.vectors).toHaveLength(3);
});

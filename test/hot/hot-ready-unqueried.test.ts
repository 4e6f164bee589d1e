// The hot index is built once a table is quiet and settled, whether or not anyone queries it: the
// first query after a settle meets it ready (it used to be considered only on a query or a write,
// so a table left alone after ingest stayed on LanceDB until its first query started the build).
import { CreateIndexCommand, CreateVectorBucketCommand, PutVectorsCommand } from '@aws-sdk/client-s3vectors';
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { startTestService, uniqueName, type TestService } from '../helpers/service';

jest.setTimeout(180_000);
Object.assign(process.env, { S3V_HOT_MIN_ROWS: '1', S3V_HOT_QUIET_MS: '300', S3V_HOT_BUILD_THREADS: '1' });

let t: TestService;
beforeAll(async () => {
  t = await startTestService({});
});
afterAll(async () => {
  await t?.close();
});

it('becomes ready after the writes stop, with no query', async () => {
  const ref = { vectorBucketName: uniqueName('hotq'), indexName: 'idle' };
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: ref.vectorBucketName }));
  await t.client.send(new CreateIndexCommand({ ...ref, dataType: 'float32', dimension: 4, distanceMetric: 'euclidean' }));
  for (let round = 0; round < 3; round++) {
    const vectors = Array.from({ length: 100 }, (_, i) => ({ key: `k${round}-${i}`, data: { float32: [round, i, Math.sin(i), 1] } }));
    await t.client.send(new PutVectorsCommand({ ...ref, vectors }));
  }
  const store = t.service.deps.store as LanceVectorStore;
  const until = Date.now() + 120_000;
  let phase: string | undefined;
  while ((phase = Object.values(store.hotStats()!.tables)[0]?.phase) !== 'ready') {
    if (Date.now() > until) throw new Error(`hot index not ready without queries: ${JSON.stringify(store.hotStats())}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(phase).toBe('ready');
  expect(store.hotStats()!.served).toBe(0);
});

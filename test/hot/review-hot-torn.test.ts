// Review of the hot index (review-hot): a hot answer with returnMetadata ranks by the snapshot,
// then reads the snapshot hits' metadata from LanceDB; an overwrite committed in between pairs
// the old vector's distance with the new write's metadata (LanceDB answers from one version).
import { CreateIndexCommand, CreateVectorBucketCommand, PutVectorsCommand, QueryVectorsCommand } from '@aws-sdk/client-s3vectors';
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { startTestService, uniqueName, type TestService } from '../helpers/service';

jest.setTimeout(480_000);
Object.assign(process.env, { S3V_HOT_MIN_ROWS: '1', S3V_HOT_QUIET_MS: '300', S3V_HOT_DELTA_MAX: '5000', S3V_HOT_BUILD_THREADS: '1' });
const dimension = 8;
const n = 400;
let t: TestService;
afterAll(async () => {
  await t?.close();
});

it('never pairs an old distance with a newer write\'s metadata', async () => {
  t = await startTestService({ persistCatalog: true, keepData: true });
  const ref = { vectorBucketName: uniqueName('rhtorn'), indexName: 'idx' };
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: ref.vectorBucketName }));
  await t.client.send(new CreateIndexCommand({ ...ref, dataType: 'float32', dimension, distanceMetric: 'euclidean' }));
  const at = (i: number) => Array.from({ length: dimension }, (_, j) => (j === 0 ? i : j === 1 ? i % 7 : 0));
  await t.client.send(new PutVectorsCommand({ ...ref, vectors: Array.from({ length: n }, (_, i) => ({ key: `k${i}`, data: { float32: at(i) }, metadata: { gen: 1 } })) }));
  const store = t.service.deps.store as LanceVectorStore;
  const until = Date.now() + 60_000;
  for (;;) {
    const before = store.hotStats()!.served;
    await t.client.send(new QueryVectorsCommand({ ...ref, queryVector: { float32: at(0) }, topK: 1 }));
    if (store.hotStats()!.served > before) break;
    if (Date.now() > until) throw new Error('not ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  let torn = 0;
  for (let i = 0; i < n; i += 4) {
    const keys = [i, i + 1, i + 2, i + 3];
    const results = await Promise.all(keys.flatMap((k) => [
      t.client.send(new QueryVectorsCommand({ ...ref, queryVector: { float32: at(k) }, topK: 1, returnDistance: true, returnMetadata: true })),
      // Moved far away, with new metadata.
      t.client.send(new PutVectorsCommand({ ...ref, vectors: [{ key: `k${k}`, data: { float32: at(k).map((x) => x + 1000) }, metadata: { gen: 2 } }] })),
    ]));
    for (const r of results) {
      const hit = (r as { vectors?: { key?: string; distance?: number; metadata?: unknown }[] }).vectors?.[0];
      // At distance 0 the hit is the gen-1 vector: its metadata must be gen 1.
      if (hit && hit.distance! < 1e-6 && (hit.metadata as { gen: number }).gen !== 1) torn++;
    }
  }
  console.log(`torn answers: ${torn} of ${n}`);
  expect(torn).toBe(0);
});

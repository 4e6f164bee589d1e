// QueryVectors pages over an ANN index: every page comes from the same ranking, so paging through
// topK results returns each hit once, nearest first.
import { CreateIndexCommand, CreateVectorBucketCommand, paginateQueryVectors, PutVectorsCommand } from '@aws-sdk/client-s3vectors';
import { startTestService, type TestService } from '../helpers/service';
import { rng } from './helpers';

let t: TestService;
beforeAll(async () => {
  // 3000 × 64-d is past the ANN threshold set here, so maintenance builds the HNSW index.
  process.env.S3V_MAINT_ANN_MIN_FLOATS = '100000';
  t = await startTestService({ maintenance: true });
});
afterAll(async () => {
  delete process.env.S3V_MAINT_ANN_MIN_FLOATS;
  await t.close();
});

it('pages a topK of 1000 without repeats or skips once the ANN index exists', async () => {
  const ref = { vectorBucketName: 'paging', indexName: 'ann' };
  const dimension = 64;
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: ref.vectorBucketName }));
  await t.client.send(new CreateIndexCommand({ ...ref, dataType: 'float32', dimension, distanceMetric: 'euclidean' }));
  const next = rng(7);
  for (let start = 0; start < 3000; start += 500) {
    const vectors = Array.from({ length: 500 }, (_, i) => ({ key: `v${start + i}`, data: { float32: Array.from({ length: dimension }, next) } }));
    await t.client.send(new PutVectorsCommand({ ...ref, vectors }));
  }
  const report = await t.service.maintenance!.runNow({ catchUp: true });
  expect(JSON.stringify(report)).toMatch(/vector-index/);
  for (let q = 0; q < 3; q++) {
    const queryVector = { float32: Array.from({ length: dimension }, next) };
    const hits: { key?: string; distance?: number }[] = [];
    for await (const page of paginateQueryVectors({ client: t.client }, { ...ref, topK: 1000, queryVector, returnDistance: true })) {
      hits.push(...page.vectors!);
    }
    expect(hits).toHaveLength(1000);
    expect(new Set(hits.map((h) => h.key)).size).toBe(1000);
    for (let i = 1; i < hits.length; i++) expect(hits[i].distance!).toBeGreaterThanOrEqual(hits[i - 1].distance! - 1e-6);
  }
});

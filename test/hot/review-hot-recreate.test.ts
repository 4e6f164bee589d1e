// Review of the hot index (review-hot): DeleteIndex then CreateIndex of the same name while the old
// table's hot build runs: the new index answers from its own rows only, and the old build leaves
// no files behind.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CreateIndexCommand, CreateVectorBucketCommand, DeleteIndexCommand, PutVectorsCommand, QueryVectorsCommand } from '@aws-sdk/client-s3vectors';
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { startTestService, uniqueName, type TestService } from '../helpers/service';

jest.setTimeout(300_000);
Object.assign(process.env, { S3V_HOT_MIN_ROWS: '1', S3V_HOT_QUIET_MS: '300', S3V_HOT_BUILD_THREADS: '1' });
const dimension = 64;
let t: TestService;
afterAll(async () => {
  await t?.close();
});

it('a same-name index created during the old one\'s hot build never sees the old rows', async () => {
  t = await startTestService({ persistCatalog: true, keepData: true });
  const ref = { vectorBucketName: uniqueName('rhre'), indexName: 'idx' };
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: ref.vectorBucketName }));
  await t.client.send(new CreateIndexCommand({ ...ref, dataType: 'float32', dimension, distanceMetric: 'euclidean' }));
  for (let i = 0; i < 20000; i += 500) {
    await t.client.send(new PutVectorsCommand({ ...ref, vectors: Array.from({ length: 500 }, (_, j) => ({ key: `old${i + j}`, data: { float32: Array.from({ length: dimension }, Math.random) } })) }));
  }
  const store = t.service.deps.store as LanceVectorStore;
  const until = Date.now() + 60_000;
  while (!Object.values(store.hotStats()!.tables).some((e) => e.phase === 'building')) {
    if (Date.now() > until) throw new Error(`no build: ${JSON.stringify(store.hotStats())}`);
    await t.client.send(new QueryVectorsCommand({ ...ref, queryVector: { float32: Array.from({ length: dimension }, Math.random) }, topK: 1 }));
    await new Promise((r) => setTimeout(r, 100));
  }
  const oldId = Object.keys(store.hotStats()!.tables)[0];
  await t.client.send(new DeleteIndexCommand(ref));
  await t.client.send(new CreateIndexCommand({ ...ref, dataType: 'float32', dimension, distanceMetric: 'euclidean' }));
  const fresh = Array.from({ length: 5 }, (_, i) => ({ key: `new${i}`, data: { float32: Array.from({ length: dimension }, () => i) } }));
  await t.client.send(new PutVectorsCommand({ ...ref, vectors: fresh }));
  // Through the old build's end and the new index's own build: at least 20 s, and on until the old
  // build's files are gone (a loaded machine may still be building it at 20 s), every answer checked.
  const hotDir = join(t.dataDir, 'vectors', '_hot');
  const oldFiles = () => (existsSync(hotDir) ? readdirSync(hotDir).filter((n) => n.startsWith(oldId)) : []);
  const started = Date.now();
  let left = oldFiles();
  while (Date.now() - started < 20_000 || (left.length > 0 && Date.now() - started < 150_000)) {
    const out = await t.client.send(new QueryVectorsCommand({ ...ref, queryVector: { float32: Array.from({ length: dimension }, () => 0.2) }, topK: 10 }));
    expect(out.vectors!.map((v) => v.key)).toEqual(['new0', 'new1', 'new2', 'new3', 'new4']);
    await new Promise((r) => setTimeout(r, 250));
    left = oldFiles();
  }
  expect(left).toEqual([]);
});

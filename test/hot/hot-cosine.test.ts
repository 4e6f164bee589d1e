// The hot index on a cosine index: distances are 1 − cos as LanceDB reports them, for snapshot and
// delta hits alike.
import { CreateIndexCommand, CreateVectorBucketCommand, PutVectorsCommand, QueryVectorsCommand } from '@aws-sdk/client-s3vectors';
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { startTestService, uniqueName, type TestService } from '../helpers/service';

jest.setTimeout(120_000);
Object.assign(process.env, { S3V_HOT_MIN_ROWS: '1', S3V_HOT_QUIET_MS: '300', S3V_HOT_BUILD_THREADS: '1' });

const dimension = 16;
let seed = 3;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648 - 0.5);
const randomVector = () => Array.from({ length: dimension }, rnd).map(Math.fround);
const truth = new Map<string, number[]>();
const ref = { vectorBucketName: '', indexName: 'cos' };
let t: TestService;

const cosine = (a: number[], b: number[]) => {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) (dot += a[i] * b[i]), (na += a[i] * a[i]), (nb += b[i] * b[i]);
  return 1 - dot / Math.sqrt(na * nb);
};
const hot = () => (t.service.deps.store as LanceVectorStore).hotStats()!;
const query = async (q: number[]) =>
  (await t.client.send(new QueryVectorsCommand({ ...ref, queryVector: { float32: q }, topK: 5, returnDistance: true }))).vectors!.map((v) => ({ key: v.key!, distance: v.distance! }));

beforeAll(async () => {
  t = await startTestService();
  ref.vectorBucketName = uniqueName('hotcos');
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: ref.vectorBucketName }));
  await t.client.send(new CreateIndexCommand({ ...ref, dataType: 'float32', dimension, distanceMetric: 'cosine' }));
  const vectors = Array.from({ length: 300 }, (_, i) => ({ key: `c${i}`, data: { float32: randomVector() } }));
  for (const v of vectors) truth.set(v.key, v.data.float32);
  await t.client.send(new PutVectorsCommand({ ...ref, vectors }));
  const until = Date.now() + 60_000;
  while (Object.values(hot().tables)[0]?.phase !== 'ready') {
    if (Date.now() > until) throw new Error(JSON.stringify(hot()));
    await query(randomVector());
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(() => t?.close());

it('answers with LanceDB cosine distances from the snapshot and the delta', async () => {
  const fresh = randomVector();
  await t.client.send(new PutVectorsCommand({ ...ref, vectors: [{ key: 'fresh', data: { float32: fresh } }] }));
  truth.set('fresh', fresh);
  for (const q of [fresh, randomVector(), randomVector()]) {
    const served = hot().served;
    const got = await query(q);
    expect(hot().served).toBe(served + 1);
    const want = [...truth].map(([key, v]) => ({ key, distance: cosine(q, v) })).sort((a, b) => a.distance - b.distance).slice(0, 5);
    expect(got.map((h) => h.key)).toEqual(want.map((h) => h.key));
    got.forEach((h, i) => expect(h.distance).toBeCloseTo(want[i].distance, 4));
  }
});

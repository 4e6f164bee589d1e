import {
  CreateIndexCommand,
  CreateVectorBucketCommand,
  DeleteVectorsCommand,
  paginateQueryVectors,
  PutVectorsCommand,
  QueryVectorsCommand,
} from '@aws-sdk/client-s3vectors';
import { expectAwsError, startTestService, uniqueName, type TestService } from '../helpers/service';

let t: TestService;
let bucket: string;
beforeAll(async () => {
  t = await startTestService();
  bucket = uniqueName('qry');
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: bucket }));
});
afterAll(() => t.close());

// Deterministic pseudo-random vectors.
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648 - 0.5;
  };
}

async function seededIndex(distanceMetric: 'cosine' | 'euclidean', count: number, dimension = 16) {
  const indexName = uniqueName(distanceMetric);
  await t.client.send(new CreateIndexCommand({ vectorBucketName: bucket, indexName, dataType: 'float32', dimension, distanceMetric }));
  const next = rng(count * 7 + dimension);
  const vectors = Array.from({ length: count }, (_, i) => ({
    key: `v${i}`,
    data: { float32: Array.from({ length: dimension }, next).map(Math.fround) },
    metadata: { group: i % 4 === 0 ? 'a' : 'b', i },
  }));
  for (let i = 0; i < count; i += 500) {
    await t.client.send(new PutVectorsCommand({ vectorBucketName: bucket, indexName, vectors: vectors.slice(i, i + 500) }));
  }
  return { ref: { vectorBucketName: bucket, indexName }, vectors };
}

function cosineDistance(a: number[], b: number[]): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return 1 - dot / Math.sqrt(na * nb);
}

function euclideanDistance(a: number[], b: number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
  return Math.sqrt(sum);
}

describe('QueryVectors', () => {
  it.each([
    ['cosine', cosineDistance],
    ['euclidean', euclideanDistance],
  ] as const)('returns the exact nearest neighbours and %s distances', async (metric, distance) => {
    const { ref, vectors } = await seededIndex(metric, 300);
    const query = vectors[17].data.float32.map((x) => x + 0.01);
    const result = await t.client.send(
      new QueryVectorsCommand({ ...ref, topK: 10, queryVector: { float32: query }, returnDistance: true }),
    );
    expect(result.distanceMetric).toBe(metric);
    const expected = vectors
      .map((v) => ({ key: v.key, d: distance(query, v.data.float32) }))
      .sort((x, y) => x.d - y.d)
      .slice(0, 10);
    expect(result.vectors!.map((v) => v.key)).toEqual(expected.map((e) => e.key));
    result.vectors!.forEach((v, i) => expect(v.distance).toBeCloseTo(expected[i].d, 4));
    expect(result.vectors![0].metadata).toBeUndefined();
  });

  it('returns metadata when asked and filters with $eq before ranking', async () => {
    const { ref, vectors } = await seededIndex('euclidean', 200);
    const query = vectors[3].data.float32;
    const result = await t.client.send(
      new QueryVectorsCommand({ ...ref, topK: 20, queryVector: { float32: query }, filter: { group: 'a' }, returnMetadata: true }),
    );
    expect(result.vectors).toHaveLength(20);
    for (const v of result.vectors!) expect(v.metadata).toMatchObject({ group: 'a' });
    const expected = vectors
      .filter((v) => v.metadata.group === 'a')
      .map((v) => ({ key: v.key, d: euclideanDistance(query, v.data.float32) }))
      .sort((x, y) => x.d - y.d)
      .slice(0, 20)
      .map((e) => e.key);
    expect(result.vectors!.map((v) => v.key)).toEqual(expected);
  });

  it('sees writes and deletes as soon as they return', async () => {
    const { ref } = await seededIndex('euclidean', 50, 4);
    await t.client.send(new PutVectorsCommand({ ...ref, vectors: [{ key: 'fresh', data: { float32: [9, 9, 9, 9] } }] }));
    const hit = await t.client.send(new QueryVectorsCommand({ ...ref, topK: 1, queryVector: { float32: [9, 9, 9, 9] } }));
    expect(hit.vectors).toEqual([{ key: 'fresh' }]);
    await t.client.send(new DeleteVectorsCommand({ ...ref, keys: ['fresh'] }));
    const after = await t.client.send(new QueryVectorsCommand({ ...ref, topK: 1, queryVector: { float32: [9, 9, 9, 9] } }));
    expect(after.vectors![0].key).not.toBe('fresh');
  });

  it('pages results of at most 100 with nextToken, as the SDK paginator expects', async () => {
    const { ref, vectors } = await seededIndex('cosine', 320, 8);
    const query = vectors[0].data.float32;
    const pages: { key?: string; distance?: number }[][] = [];
    for await (const page of paginateQueryVectors({ client: t.client }, { ...ref, topK: 250, queryVector: { float32: query }, returnDistance: true })) {
      expect(page.distanceMetric).toBe('cosine');
      pages.push(page.vectors!);
    }
    expect(pages.map((p) => p.length)).toEqual([100, 100, 50]);
    const all = pages.flat();
    expect(new Set(all.map((v) => v.key)).size).toBe(250);
    for (let i = 1; i < all.length; i++) expect(all[i].distance!).toBeGreaterThanOrEqual(all[i - 1].distance! - 1e-6);
  });

  it('returns fewer than topK when the index holds fewer vectors, with no nextToken', async () => {
    const { ref, vectors } = await seededIndex('cosine', 30, 8);
    const result = await t.client.send(new QueryVectorsCommand({ ...ref, topK: 100, queryVector: { float32: vectors[0].data.float32 } }));
    expect(result.vectors).toHaveLength(30);
    expect(result.nextToken).toBeUndefined();
  });

  it('refuses a nextToken used with a different query', async () => {
    const { ref, vectors } = await seededIndex('cosine', 150, 8);
    const first = await t.client.send(new QueryVectorsCommand({ ...ref, topK: 150, queryVector: { float32: vectors[0].data.float32 } }));
    expect(first.nextToken).toBeDefined();
    await expectAwsError(
      t.client.send(new QueryVectorsCommand({ ...ref, topK: 150, queryVector: { float32: vectors[1].data.float32 }, nextToken: first.nextToken })),
      'ValidationException',
      400,
    );
  });

  it('validates topK, the query vector and the filter', async () => {
    const { ref } = await seededIndex('cosine', 5, 4);
    const queryVector = { float32: [1, 2, 3, 4] };
    await expectAwsError(t.client.send(new QueryVectorsCommand({ ...ref, topK: 0, queryVector })), 'ValidationException', 400);
    const tooMany = await expectAwsError(t.client.send(new QueryVectorsCommand({ ...ref, topK: 10_001, queryVector })), 'ValidationException', 400);
    expect(tooMany.fieldList?.[0]?.path).toBe('/topK');
    const maxTopK = await t.client.send(new QueryVectorsCommand({ ...ref, topK: 10_000, queryVector }));
    expect(maxTopK.vectors).toHaveLength(5);
    await expectAwsError(t.client.send(new QueryVectorsCommand({ ...ref, topK: 3, queryVector: { float32: [1, 2] } })), 'ValidationException', 400);
    await expectAwsError(
      t.client.send(new QueryVectorsCommand({ ...ref, topK: 3, queryVector: { float32: [0, 0, 0, 0] } })),
      'ValidationException',
      400,
    );
    await expectAwsError(
      t.client.send(new QueryVectorsCommand({ ...ref, topK: 3, queryVector, filter: { group: { $regex: 'a' } } })),
      'ValidationException',
      400,
    );
  });

  it('refuses a filter on a non-filterable key', async () => {
    const indexName = uniqueName('nf');
    await t.client.send(
      new CreateIndexCommand({
        vectorBucketName: bucket,
        indexName,
        dataType: 'float32',
        dimension: 2,
        distanceMetric: 'euclidean',
        metadataConfiguration: { nonFilterableMetadataKeys: ['body'] },
      }),
    );
    await t.client.send(new PutVectorsCommand({ vectorBucketName: bucket, indexName, vectors: [{ key: 'a', data: { float32: [1, 1] }, metadata: { body: 'x' } }] }));
    const error = await expectAwsError(
      t.client.send(new QueryVectorsCommand({ vectorBucketName: bucket, indexName, topK: 1, queryVector: { float32: [1, 1] }, filter: { body: 'x' } })),
      'ValidationException',
      400,
    );
    expect(error.message).toMatch(/body/);
  });
});

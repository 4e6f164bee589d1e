import {
  CreateIndexCommand,
  CreateVectorBucketCommand,
  DeleteVectorsCommand,
  GetVectorsCommand,
  ListVectorsCommand,
  paginateListVectors,
  PutVectorsCommand,
  type PutInputVector,
} from '@aws-sdk/client-s3vectors';
import { callOperation } from '../helpers/raw';
import { expectAwsError, startTestService, uniqueName, type TestService } from '../helpers/service';

let t: TestService;
let bucket: string;
beforeAll(async () => {
  t = await startTestService();
  bucket = uniqueName('vec');
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: bucket }));
});
afterAll(() => t.close());

async function newIndex(dimension: number, distanceMetric: 'cosine' | 'euclidean' = 'euclidean', nonFilterable?: string[]) {
  const indexName = uniqueName('i');
  await t.client.send(
    new CreateIndexCommand({
      vectorBucketName: bucket,
      indexName,
      dataType: 'float32',
      dimension,
      distanceMetric,
      ...(nonFilterable ? { metadataConfiguration: { nonFilterableMetadataKeys: nonFilterable } } : {}),
    }),
  );
  return { vectorBucketName: bucket, indexName };
}

describe('PutVectors / GetVectors', () => {
  it('stores float32 values and metadata and returns them exactly', async () => {
    const index = await newIndex(4, 'euclidean', ['summary']);
    const metadata = { genre: ['drama', 'romance'], year: 2021, rating: 7.5, available: true, summary: 'A long text with "quotes" and ünïcode' };
    await t.client.send(
      new PutVectorsCommand({
        ...index,
        vectors: [
          { key: 'film-1', data: { float32: [0.1, 0.2, 0.30000001192092896, 1] }, metadata },
          { key: 'film-2', data: { float32: [0.5, -0.5, 0.25, 0] } },
        ],
      }),
    );
    const got = await t.client.send(
      new GetVectorsCommand({ ...index, keys: ['film-1', 'film-2', 'missing'], returnData: true, returnMetadata: true }),
    );
    expect(got.vectors!.map((v) => v.key)).toEqual(['film-1', 'film-2']);
    expect(got.vectors![0].data!.float32).toEqual([0.1, 0.2, 0.30000001192092896, 1].map(Math.fround));
    expect(got.vectors![0].metadata).toEqual(metadata);
    expect(got.vectors![1].metadata).toEqual({}); // AWS: {} for a vector stored without metadata
  });

  it('leaves data and metadata out unless asked for', async () => {
    const index = await newIndex(2);
    await t.client.send(new PutVectorsCommand({ ...index, vectors: [{ key: 'a', data: { float32: [1, 2] }, metadata: { x: 1 } }] }));
    const got = await t.client.send(new GetVectorsCommand({ ...index, keys: ['a'] }));
    expect(got.vectors).toEqual([{ key: 'a' }]);
  });

  it('upserts by key: the second put replaces data and metadata', async () => {
    const index = await newIndex(2);
    await t.client.send(new PutVectorsCommand({ ...index, vectors: [{ key: 'a', data: { float32: [1, 2] }, metadata: { v: 1 } }] }));
    await t.client.send(new PutVectorsCommand({ ...index, vectors: [{ key: 'a', data: { float32: [3, 4] }, metadata: { v: 2 } }] }));
    const got = await t.client.send(new GetVectorsCommand({ ...index, keys: ['a'], returnData: true, returnMetadata: true }));
    expect(got.vectors).toEqual([{ key: 'a', data: { float32: [3, 4] }, metadata: { v: 2 } }]);
    const listed = await t.client.send(new ListVectorsCommand(index));
    expect(listed.vectors).toHaveLength(1);
  });

  it('keeps the last occurrence when one request repeats a key', async () => {
    const index = await newIndex(2);
    await t.client.send(
      new PutVectorsCommand({ ...index, vectors: [{ key: 'a', data: { float32: [1, 1] } }, { key: 'a', data: { float32: [2, 2] } }] }),
    );
    const got = await t.client.send(new GetVectorsCommand({ ...index, keys: ['a'], returnData: true }));
    expect(got.vectors).toEqual([{ key: 'a', data: { float32: [2, 2] } }]);
  });

  it('rejects a vector of the wrong dimension and writes nothing of the request', async () => {
    const index = await newIndex(3);
    const error = await expectAwsError(
      t.client.send(new PutVectorsCommand({ ...index, vectors: [{ key: 'ok', data: { float32: [1, 2, 3] } }, { key: 'bad', data: { float32: [1, 2] } }] })),
      'ValidationException',
      400,
    );
    expect(error.fieldList?.[0]?.path).toBe('/vectors/1/data/float32');
    const got = await t.client.send(new GetVectorsCommand({ ...index, keys: ['ok', 'bad'] }));
    expect(got.vectors).toEqual([]);
  });

  it('rejects NaN and infinities as boto3 sends them (JSON strings), and values beyond float32', async () => {
    const index = await newIndex(2);
    for (const bad of ['NaN', 'Infinity', '-Infinity']) {
      const response = await callOperation(t.url, 'PutVectors', { ...index, vectors: [{ key: 'k', data: { float32: [bad, 1.0] } }] });
      expect(response.status).toBe(400);
      expect(response.errorType).toBe('ValidationException');
      expect((response.body.fieldList as { path: string }[])[0].path).toBe('/vectors/0/data/float32/0');
    }
    await expectAwsError(
      t.client.send(new PutVectorsCommand({ ...index, vectors: [{ key: 'k', data: { float32: [1e39, 1] } }] })),
      'ValidationException',
      400,
    );
  });

  it('rejects an empty key, a zero vector in a cosine index, and more than 500 vectors', async () => {
    const index = await newIndex(2, 'cosine');
    await expectAwsError(t.client.send(new PutVectorsCommand({ ...index, vectors: [{ key: '', data: { float32: [1, 1] } }] })), 'ValidationException', 400);
    const zero = await expectAwsError(
      t.client.send(new PutVectorsCommand({ ...index, vectors: [{ key: 'z', data: { float32: [0, 0] } }] })),
      'ValidationException',
      400,
    );
    expect(zero.message).toBe("Invalid record for key 'z': cosine distance does not support vectors with zero norm");
    const many: PutInputVector[] = Array.from({ length: 501 }, (_, i) => ({ key: `k${i}`, data: { float32: [1, i] } }));
    await expectAwsError(t.client.send(new PutVectorsCommand({ ...index, vectors: many })), 'ValidationException', 400);
    const euclidean = await newIndex(2, 'euclidean');
    await t.client.send(new PutVectorsCommand({ ...euclidean, vectors: [{ key: 'z', data: { float32: [0, 0] } }] }));
  });

  it('rejects a key longer than 1024 characters and more than 100 keys per GetVectors', async () => {
    const index = await newIndex(2);
    await expectAwsError(
      t.client.send(new PutVectorsCommand({ ...index, vectors: [{ key: 'k'.repeat(1025), data: { float32: [1, 1] } }] })),
      'ValidationException',
      400,
    );
    await expectAwsError(
      t.client.send(new GetVectorsCommand({ ...index, keys: Array.from({ length: 101 }, (_, i) => `k${i}`) })),
      'ValidationException',
      400,
    );
  });

  it('validates every entry, also one a later entry with the same key replaces', async () => {
    const index = await newIndex(2);
    await expectAwsError(
      t.client.send(new PutVectorsCommand({ ...index, vectors: [{ key: 'x', data: { float32: [1, 2, 3] } }, { key: 'x', data: { float32: [1, 2] } }] })),
      'ValidationException',
      400,
    );
  });

  it('refuses keys that are not valid Unicode, instead of storing them as another key', async () => {
    const index = await newIndex(2);
    await t.client.send(new PutVectorsCommand({ ...index, vectors: [{ key: '\uFFFD', data: { float32: [1, 1] } }] }));
    for (const send of [
      () => t.client.send(new PutVectorsCommand({ ...index, vectors: [{ key: '\ud800', data: { float32: [2, 2] } }] })),
      () => t.client.send(new GetVectorsCommand({ ...index, keys: ['\ud800'] })),
      () => t.client.send(new DeleteVectorsCommand({ ...index, keys: ['\ud800'] })),
    ]) {
      await expectAwsError(send(), 'ValidationException', 400);
    }
    const kept = await t.client.send(new GetVectorsCommand({ ...index, keys: ['\uFFFD'], returnData: true }));
    expect(kept.vectors).toEqual([{ key: '\uFFFD', data: { float32: [1, 1] } }]);
  });

  it('answers NotFoundException for a missing index', async () => {
    await expectAwsError(
      t.client.send(new PutVectorsCommand({ vectorBucketName: bucket, indexName: 'nowhere', vectors: [{ key: 'a', data: { float32: [1] } }] })),
      'NotFoundException',
      404,
    );
  });

  it('accepts keys with quotes, backslashes and unicode', async () => {
    const index = await newIndex(2);
    const keys = ["it's", 'back\\slash', '"double"', 'emoji 🎬', "x' OR '1'='1", '%_like'];
    await t.client.send(new PutVectorsCommand({ ...index, vectors: keys.map((key, i) => ({ key, data: { float32: [i + 1, 1] } })) }));
    const got = await t.client.send(new GetVectorsCommand({ ...index, keys }));
    expect(got.vectors!.map((v) => v.key)).toEqual(keys);
    await t.client.send(new DeleteVectorsCommand({ ...index, keys: ["x' OR '1'='1"] }));
    const after = await t.client.send(new GetVectorsCommand({ ...index, keys }));
    expect(after.vectors!.map((v) => v.key)).toEqual(keys.filter((k) => k !== "x' OR '1'='1"));
  });
});

describe('DeleteVectors', () => {
  it('deletes keys, succeeds for keys that do not exist, and the next read sees it', async () => {
    const index = await newIndex(2);
    await t.client.send(
      new PutVectorsCommand({ ...index, vectors: ['a', 'b', 'c'].map((key, i) => ({ key, data: { float32: [i, 1] } })) }),
    );
    await t.client.send(new DeleteVectorsCommand({ ...index, keys: ['a', 'nope'] }));
    const got = await t.client.send(new GetVectorsCommand({ ...index, keys: ['a', 'b', 'c'] }));
    expect(got.vectors!.map((v) => v.key)).toEqual(['b', 'c']);
    await expectAwsError(t.client.send(new DeleteVectorsCommand({ ...index, keys: [] })), 'ValidationException', 400);
  });
});

describe('ListVectors', () => {
  let index: { vectorBucketName: string; indexName: string };
  const total = 230;
  beforeAll(async () => {
    index = await newIndex(3);
    const vectors = Array.from({ length: total }, (_, i) => ({
      key: `key-${String(i).padStart(4, '0')}`,
      data: { float32: [i, i / 2, 1] },
      metadata: { n: i },
    }));
    for (let i = 0; i < total; i += 100) await t.client.send(new PutVectorsCommand({ ...index, vectors: vectors.slice(i, i + 100) }));
  });

  it('pages through every vector once with maxResults and nextToken', async () => {
    const keys: string[] = [];
    const sizes: number[] = [];
    for await (const page of paginateListVectors({ client: t.client, pageSize: 100 }, { ...index, returnMetadata: true })) {
      sizes.push(page.vectors!.length);
      for (const v of page.vectors!) {
        expect(v.metadata).toEqual({ n: Number(v.key!.slice(4)) });
        expect(v.data).toBeUndefined();
      }
      keys.push(...page.vectors!.map((v) => v.key!));
    }
    expect(sizes).toEqual([100, 100, 30]);
    expect(new Set(keys).size).toBe(total);
  });

  it('returns data when asked, as float32', async () => {
    const page = await t.client.send(new ListVectorsCommand({ ...index, maxResults: 3, returnData: true }));
    for (const v of page.vectors!) {
      const i = Number(v.key!.slice(4));
      expect(v.data!.float32).toEqual([i, i / 2, 1].map(Math.fround));
    }
  });

  it('splits the keys into segments that together return every key exactly once', async () => {
    const segmentCount = 4;
    const all: string[] = [];
    for (let segmentIndex = 0; segmentIndex < segmentCount; segmentIndex++) {
      const segmentKeys: string[] = [];
      for await (const page of paginateListVectors({ client: t.client, pageSize: 25 }, { ...index, segmentCount, segmentIndex })) {
        segmentKeys.push(...page.vectors!.map((v) => v.key!));
      }
      expect(segmentKeys.length).toBeGreaterThan(0);
      all.push(...segmentKeys);
    }
    expect(all).toHaveLength(total);
    expect(new Set(all).size).toBe(total);
  });

  it('validates segments and page sizes', async () => {
    await expectAwsError(t.client.send(new ListVectorsCommand({ ...index, segmentCount: 2 })), 'ValidationException', 400);
    await expectAwsError(t.client.send(new ListVectorsCommand({ ...index, segmentIndex: 0 })), 'ValidationException', 400);
    await expectAwsError(t.client.send(new ListVectorsCommand({ ...index, segmentCount: 2, segmentIndex: 2 })), 'ValidationException', 400);
    await expectAwsError(t.client.send(new ListVectorsCommand({ ...index, segmentCount: 17, segmentIndex: 0 })), 'ValidationException', 400);
    await expectAwsError(t.client.send(new ListVectorsCommand({ ...index, maxResults: 1001 })), 'ValidationException', 400);
  });

  it('pages through keys beyond ASCII and the BMP without skipping any', async () => {
    const unicode = await newIndex(2);
    const keys = ['a', 'z', 'é', '中', '😀', '\uE000', '\uFFFD', 'ﬁ', '𝄞 clef'];
    await t.client.send(new PutVectorsCommand({ ...unicode, vectors: keys.map((key, i) => ({ key, data: { float32: [i, 1] } })) }));
    const seen: string[] = [];
    for await (const page of paginateListVectors({ client: t.client, pageSize: 1 }, unicode)) seen.push(...page.vectors!.map((v) => v.key!));
    expect([...seen].sort()).toEqual([...keys].sort());
  });

  it('refuses a token from another segment', async () => {
    const first = await t.client.send(new ListVectorsCommand({ ...index, segmentCount: 2, segmentIndex: 0, maxResults: 5 }));
    await expectAwsError(
      t.client.send(new ListVectorsCommand({ ...index, segmentCount: 2, segmentIndex: 1, nextToken: first.nextToken })),
      'ValidationException',
      400,
    );
  });

  it('ends a page at 1 MB of vectors, before maxResults', async () => {
    const big = await newIndex(1000);
    const vectors = Array.from({ length: 100 }, (_, i) => ({
      key: `big-${String(i).padStart(3, '0')}`,
      data: { float32: Array.from({ length: 1000 }, (_, j) => Math.fround(Math.sin(i * 1000 + j)) ) },
    }));
    await t.client.send(new PutVectorsCommand({ ...big, vectors }));
    const page = await t.client.send(new ListVectorsCommand({ ...big, maxResults: 1000, returnData: true }));
    expect(page.vectors!.length).toBeLessThan(100);
    expect(page.nextToken).toBeDefined();
    const rest = await t.client.send(new ListVectorsCommand({ ...big, maxResults: 1000, returnData: true, nextToken: page.nextToken }));
    expect(page.vectors!.length + rest.vectors!.length).toBe(100);
  });
});

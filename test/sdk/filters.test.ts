// The filter language and metadata limits through the AWS SDK client, against the real server.
import { CreateIndexCommand, CreateVectorBucketCommand, PutVectorsCommand, QueryVectorsCommand } from '@aws-sdk/client-s3vectors';
import { expectAwsError, startTestService, uniqueName, type TestService } from '../helpers/service';

let t: TestService;
const ref = { vectorBucketName: '', indexName: 'films' };
const docs: Record<string, Record<string, unknown>> = {
  a: { genre: 'drama', year: 2021, rating: 7.5, active: true, tags: ['x', 'y'], summary: 'long' },
  b: { genre: 'comedy', year: 1999, rating: 5, active: false, tags: ['y'] },
  c: { genre: ['drama', 'romance'], year: 2010, active: true },
  d: { genre: 'Drama', year: '2021', rating: 9.9 },
  e: {},
  f: { genre: "it's \"quoted\" \\ ; -- OR 1=1", year: 2000, note: '🎬 emoji' },
};

beforeAll(async () => {
  t = await startTestService();
  ref.vectorBucketName = uniqueName('flt');
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: ref.vectorBucketName }));
  await t.client.send(
    new CreateIndexCommand({ ...ref, dataType: 'float32', dimension: 2, distanceMetric: 'euclidean', metadataConfiguration: { nonFilterableMetadataKeys: ['summary'] } }),
  );
  await t.client.send(
    new PutVectorsCommand({
      ...ref,
      vectors: Object.entries(docs).map(([key, metadata], i) => ({ key, data: { float32: [i, 1] }, metadata: metadata as never })),
    }),
  );
});
afterAll(() => t.close());

async function keysMatching(filter: Record<string, unknown>): Promise<string[]> {
  const result = await t.client.send(new QueryVectorsCommand({ ...ref, topK: 100, queryVector: { float32: [0, 1] }, filter: filter as never }));
  return result.vectors!.map((v) => v.key!).sort();
}

describe('operators', () => {
  it.each([
    ['shorthand equality', { genre: 'drama' }, ['a', 'c']],
    ['$eq matches any element of an array value', { genre: { $eq: 'romance' } }, ['c']],
    ['$eq is case sensitive and typed', { year: 2021 }, ['a']],
    ['$eq on a string that looks like a number', { year: '2021' }, ['d']],
    ['$eq on a boolean', { active: true }, ['a', 'c']],
    ['$ne (missing keys match)', { genre: { $ne: 'drama' } }, ['b', 'd', 'e', 'f']],
    ['$gt', { year: { $gt: 2010 } }, ['a']],
    ['$gte', { year: { $gte: 2010 } }, ['a', 'c']],
    ['$lt', { rating: { $lt: 7.5 } }, ['b']],
    ['$lte', { rating: { $lte: 7.5 } }, ['a', 'b']],
    ['a range of two operators on one key', { year: { $gte: 2000, $lt: 2021 } }, ['c', 'f']],
    ['$in', { genre: { $in: ['comedy', 'romance'] } }, ['b', 'c']],
    ['$nin', { genre: { $nin: ['comedy', 'romance'] } }, ['a', 'd', 'e', 'f']],
    ['$exists true', { rating: { $exists: true } }, ['a', 'b', 'd']],
    ['$exists false', { rating: { $exists: false } }, ['c', 'e', 'f']],
    ['$and', { $and: [{ active: true }, { year: { $lt: 2020 } }] }, ['c']],
    ['$or', { $or: [{ genre: 'comedy' }, { rating: { $gt: 9 } }] }, ['b', 'd']],
    ['several keys mean AND', { genre: 'drama', active: true }, ['a', 'c']],
    ['$startsWith (ENHANCED)', { genre: { $startsWith: 'dra' } }, ['a', 'c']],
    ['quotes, backslashes and SQL matched literally', { genre: "it's \"quoted\" \\ ; -- OR 1=1" }, ['f']],
    ['emoji matched literally', { note: '🎬 emoji' }, ['f']],
    ['a value nobody has', { genre: "x' OR '1'='1" }, []],
  ])('%s', async (_name, filter, expected) => {
    expect(await keysMatching(filter)).toEqual(expected);
  });
});

describe('malformed filters are ValidationExceptions naming the problem', () => {
  it.each([
    ['an unknown operator', { genre: { $regex: 'd.*' } }, /\$regex/],
    ['$in with a non-array', { genre: { $in: 'drama' } }, /\$in/],
    ['an empty $and', { $and: [] }, /\$and/],
    ['$gt with a string', { year: { $gt: '2000' } }, /\$gt/],
    ['$exists with a string', { year: { $exists: 'yes' } }, /\$exists/],
    ['a non-filterable key', { summary: 'long' }, /summary/],
    ['nesting past the depth limit', JSON.parse('{"$and":['.repeat(20) + '{"a":1}' + ']}'.repeat(20)), /deep|depth|nest/i],
  ])('%s', async (_name, filter, message) => {
    const error = await expectAwsError(
      t.client.send(new QueryVectorsCommand({ ...ref, topK: 1, queryVector: { float32: [0, 1] }, filter: filter as never })),
      'ValidationException',
      400,
    );
    expect(error.message).toMatch(message);
    expect(error.fieldList?.[0]?.path).toBe('/filter');
  });

  it('refuses more than 100 filter constraints on an ENHANCED index', async () => {
    const values = Array.from({ length: 101 }, (_, i) => `v${i}`);
    const error = await expectAwsError(
      t.client.send(new QueryVectorsCommand({ ...ref, topK: 1, queryVector: { float32: [0, 1] }, filter: { genre: { $in: values } } })),
      'ValidationException',
      400,
    );
    expect(error.message).toMatch(/100/);
    expect(await keysMatching({ genre: { $in: values.slice(0, 100) } })).toEqual([]);
  });

  it('refuses a filter that is not an object', async () => {
    await expectAwsError(
      t.client.send(new QueryVectorsCommand({ ...ref, topK: 1, queryVector: { float32: [0, 1] }, filter: ['genre'] as never })),
      'ValidationException',
      400,
    );
  });
});

describe('metadata limits on PutVectors', () => {
  const put = (metadata: unknown) =>
    t.client.send(new PutVectorsCommand({ ...ref, vectors: [{ key: uniqueName('m'), data: { float32: [1, 1] }, metadata: metadata as never }] }));

  it('refuses filterable metadata over 2 KB, saying by how much', async () => {
    const error = await expectAwsError(put({ text: 'x'.repeat(2100) }), 'ValidationException', 400);
    expect(error.message).toMatch(/filterable/i);
    expect(error.fieldList?.[0]?.path).toMatch(/^\/vectors\/0\/metadata/);
  });

  it('lets non-filterable metadata use the 40 KB total, and no more', async () => {
    await put({ summary: 'x'.repeat(30_000), genre: 'drama' });
    const error = await expectAwsError(put({ summary: 'x'.repeat(41_000) }), 'ValidationException', 400);
    expect(error.message).toMatch(/40960|40 ?K/i);
  });

  it('refuses more than 50 keys, and values that are not strings, numbers, booleans or lists of them', async () => {
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
    await expectAwsError(put(many), 'ValidationException', 400);
    await expectAwsError(put({ nested: { a: 1 } }), 'ValidationException', 400);
    await expectAwsError(put('not an object'), 'ValidationException', 400);
  });
});

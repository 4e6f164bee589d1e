// Vectors and empty values: each expected message or value is AWS's, as recorded by the source named
// in the case title (moto's tests/test_s3vectors run against Amazon S3 Vectors, or a user's report
// quoting an AWS answer).
import {
  CreateIndexCommand,
  CreateVectorBucketCommand,
  DeleteVectorsCommand,
  GetVectorsCommand,
  ListVectorsCommand,
  PutVectorsCommand,
  QueryVectorsCommand,
} from '@aws-sdk/client-s3vectors';
import { callOperation } from '../helpers/raw';
import { ACCOUNT, REGION, startTestService, uniqueName, type TestService } from '../helpers/service';
import { answerOf } from './answer';

let t: TestService;
let bucket: string;
beforeAll(async () => {
  t = await startTestService();
  bucket = uniqueName('aws-wording');
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: bucket }));
});
afterAll(() => t.close());

const indexArnOf = (indexName: string) => `arn:aws:s3vectors:${REGION}:${ACCOUNT}:bucket/${bucket}/index/${indexName}`;

async function newIndex(dimension = 1, distanceMetric: 'euclidean' | 'cosine' = 'euclidean', nonFilterable?: string[]): Promise<string> {
  const indexName = uniqueName('idx');
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
  return indexName;
}

const NAME_OR_ARN = {
  code: 'ValidationException',
  status: 400,
  message: 'Must specify either indexArn or both vectorBucketName and indexName',
};
const NO_INDEX = { code: 'NotFoundException', status: 404, message: 'The specified index could not be found' };

describe('empty values', () => {
  it('moto test_put_vectors_by_name: returnMetadata on a vector stored without metadata gives "metadata": {}', async () => {
    const indexName = await newIndex();
    await t.client.send(new PutVectorsCommand({ vectorBucketName: bucket, indexName, vectors: [{ key: 'my_first_vector', data: { float32: [1] } }] }));
    const plain = await t.client.send(new GetVectorsCommand({ vectorBucketName: bucket, indexName, keys: ['my_first_vector'] }));
    expect(plain.vectors).toEqual([{ key: 'my_first_vector' }]);
    const withMetadata = await t.client.send(
      new GetVectorsCommand({ vectorBucketName: bucket, indexName, keys: ['my_first_vector'], returnMetadata: true }),
    );
    expect(withMetadata.vectors).toEqual([{ key: 'my_first_vector', metadata: {} }]);
  });

  // GetVectors' answer is recorded (above); ListVectors and QueryVectors return the same member
  // ("metadata" of ListOutputVector / QueryOutputVector), so they answer {} the same way.
  it('ListVectors and QueryVectors with returnMetadata give "metadata": {} too, and leave it out when not asked', async () => {
    const indexName = await newIndex();
    await t.client.send(new PutVectorsCommand({ vectorBucketName: bucket, indexName, vectors: [{ key: 'k', data: { float32: [1] } }] }));
    const listed = await t.client.send(new ListVectorsCommand({ vectorBucketName: bucket, indexName, returnMetadata: true }));
    expect(listed.vectors).toEqual([{ key: 'k', metadata: {} }]);
    expect((await t.client.send(new ListVectorsCommand({ vectorBucketName: bucket, indexName }))).vectors).toEqual([{ key: 'k' }]);
    const query = { vectorBucketName: bucket, indexName, topK: 1, queryVector: { float32: [1] } };
    const queried = await t.client.send(new QueryVectorsCommand({ ...query, returnMetadata: true }));
    expect(queried.vectors).toEqual([{ key: 'k', metadata: {} }]);
    expect((await t.client.send(new QueryVectorsCommand(query))).vectors).toEqual([{ key: 'k' }]);
  });

  it('moto test_put_vectors_by_arn / test_list_vectors_using_name: stored metadata comes back only when asked', async () => {
    const indexName = await newIndex();
    const indexArn = indexArnOf(indexName);
    await t.client.send(new PutVectorsCommand({ indexArn, vectors: [{ key: 'v', data: { float32: [1] }, metadata: { my: 'metadata' } }] }));
    expect((await t.client.send(new GetVectorsCommand({ indexArn, keys: ['v'] }))).vectors).toEqual([{ key: 'v' }]);
    expect((await t.client.send(new GetVectorsCommand({ indexArn, keys: ['v'], returnMetadata: true }))).vectors).toEqual([
      { key: 'v', metadata: { my: 'metadata' } },
    ]);
    expect((await t.client.send(new GetVectorsCommand({ indexArn, keys: ['v'], returnData: true }))).vectors).toEqual([
      { key: 'v', data: { float32: [1] } },
    ]);
  });
});

describe('vectors (moto test_s3vector_vectors.py)', () => {
  it('test_put_vectors_with_wrong_dimension: "Invalid record for key \'my_first_vector\': vector must have length 5, but has length 1"', async () => {
    const indexName = await newIndex(5);
    const answer = await answerOf(
      t.client.send(new PutVectorsCommand({ vectorBucketName: bucket, indexName, vectors: [{ key: 'my_first_vector', data: { float32: [1] } }] })),
    );
    expect(answer).toMatchObject({
      code: 'ValidationException',
      status: 400,
      message: "Invalid record for key 'my_first_vector': vector must have length 5, but has length 1",
    });
  });

  it('test_get/put/list/delete_vectors_by_name_and_arn: "Must specify either indexArn or both vectorBucketName and indexName"', async () => {
    const indexName = await newIndex();
    const indexArn = indexArnOf(indexName);
    const vectors = [{ key: 'my_first_vector', data: { float32: [1] } }];
    expect(await answerOf(t.client.send(new GetVectorsCommand({ vectorBucketName: bucket, indexArn, indexName, keys: ['k'] })))).toMatchObject(NAME_OR_ARN);
    expect(await answerOf(t.client.send(new PutVectorsCommand({ vectorBucketName: bucket, indexArn, indexName, vectors })))).toMatchObject(NAME_OR_ARN);
    expect(await answerOf(t.client.send(new ListVectorsCommand({ vectorBucketName: bucket, indexArn })))).toMatchObject(NAME_OR_ARN);
    expect(await answerOf(t.client.send(new DeleteVectorsCommand({ vectorBucketName: bucket, indexArn, indexName, keys: ['k'] })))).toMatchObject(
      NAME_OR_ARN,
    );
  });

  it('test_get_vectors_from_unknown_index(_arn) / test_put_vectors_by_unknown_name(_arn): "The specified index could not be found"', async () => {
    const indexName = uniqueName('missing');
    const vectors = [{ key: 'my_first_vector', data: { float32: [1] } }];
    expect(await answerOf(t.client.send(new GetVectorsCommand({ vectorBucketName: bucket, indexName, keys: ['k'] })))).toMatchObject(NO_INDEX);
    expect(await answerOf(t.client.send(new GetVectorsCommand({ indexArn: indexArnOf(indexName), keys: ['k'] })))).toMatchObject(NO_INDEX);
    expect(await answerOf(t.client.send(new PutVectorsCommand({ vectorBucketName: bucket, indexName, vectors })))).toMatchObject(NO_INDEX);
    expect(await answerOf(t.client.send(new PutVectorsCommand({ indexArn: indexArnOf(indexName), vectors })))).toMatchObject(NO_INDEX);
  });
});

describe("PutVectors records, as users quote AWS's answers", () => {
  const put = (indexName: string, vector: Record<string, unknown>) =>
    answerOf(t.client.send(new PutVectorsCommand({ vectorBucketName: bucket, indexName, vectors: [vector as never] })));

  it('spiceai/spiceai issue 7109: "Invalid record for key \'111111\': cosine distance does not support vectors with zero norm"', async () => {
    const indexName = await newIndex(2, 'cosine');
    expect(await put(indexName, { key: '111111', data: { float32: [0, 0] } })).toMatchObject({
      code: 'ValidationException',
      message: "Invalid record for key '111111': cosine distance does not support vectors with zero norm",
    });
  });

  it('langchain-ai/langchain-aws issue 693: "Invalid record for key \'<KEY>\': Filterable metadata must have at most 2048 bytes"', async () => {
    const indexName = await newIndex();
    expect(await put(indexName, { key: 'doc-1', data: { float32: [1] }, metadata: { page_content: 'x'.repeat(3000) } })).toMatchObject({
      code: 'ValidationException',
      message: "Invalid record for key 'doc-1': Filterable metadata must have at most 2048 bytes",
      // AWS's fieldList as quoted in supabase/storage src/storage/protocols/vector/adapter/s3-vector.test.ts: the bare problem
      fieldList: [{ path: '/vectors/0/metadata', message: 'Filterable metadata must have at most 2048 bytes' }],
    });
  });

  it('run-llama/llama_index issue 19522: "Invalid record for key \'<id>\': Metadata object must have at most N keys"', async () => {
    const indexName = await newIndex();
    const metadata = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
    expect(await put(indexName, { key: 'node-1', data: { float32: [1] }, metadata })).toMatchObject({
      code: 'ValidationException',
      message: "Invalid record for key 'node-1': Metadata object must have at most 50 keys",
    });
  });
});

describe('several violations in one request', () => {
  // AWS's answers always read "1 validation error detected. <one violation>" (every recorded one in
  // moto's suite). Its Smithy server framework (smithy-rs: ValidationException conversion, "first
  // validation exception field") stops at the first violation, in member order.
  it('reports only the first violation in member order, with one fieldList entry', async () => {
    const answer = await answerOf(
      t.client.send(
        new CreateIndexCommand({ vectorBucketName: bucket, indexName: 'ab', dataType: 'int' as never, dimension: 0, distanceMetric: 'what' as never }),
      ),
    );
    const message = "Value with length 2 at '/indexName' failed to satisfy constraint: Member must have length between 3 and 63, inclusive";
    expect(answer).toEqual({
      code: 'ValidationException',
      status: 400,
      message: `1 validation error detected. ${message}`,
      fieldList: [{ path: '/indexName', message }],
    });
  });

  it('names a missing required member as "Member must not be null", in member order with the others', async () => {
    const answer = await answerOf(
      t.client.send(new CreateIndexCommand({ vectorBucketName: bucket, indexName: uniqueName('idx'), dimension: 0, distanceMetric: 'cosine' } as never)),
    );
    expect(answer.message).toBe("1 validation error detected. Value at '/dataType' failed to satisfy constraint: Member must not be null");
  });
});

describe('a union with no member set', () => {
  // AWS's server framework (smithy-rs, JsonParserGenerator.deserializeUnion in server mode) reads a
  // union object without a variant as no value at all, so a required union (PutInputVector.data,
  // QueryVectorsInput.queryVector) is reported as a missing member.
  it.each([
    ['PutVectors data {}', 'PutVectors', (index: string) => ({ vectorBucketName: bucket, indexName: index, vectors: [{ key: 'k', data: {} }] }), '/vectors/0/data'],
    ['QueryVectors queryVector {}', 'QueryVectors', (index: string) => ({ vectorBucketName: bucket, indexName: index, topK: 1, queryVector: {} }), '/queryVector'],
  ])('%s: "Member must not be null" at the union', async (_, operation, body, path) => {
    const index = await newIndex();
    const res = await callOperation(t.url, operation, body(index));
    const message = `Value at '${path}' failed to satisfy constraint: Member must not be null`;
    expect({ status: res.status, type: res.errorType, body: res.body }).toEqual({
      status: 400,
      type: 'ValidationException',
      body: { message: `1 validation error detected. ${message}`, fieldList: [{ path, message }] },
    });
  });
});

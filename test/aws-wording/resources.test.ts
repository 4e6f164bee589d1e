// Buckets, indexes and bucket policies: each expected message is AWS's, as recorded by the test named
// in the case title (moto's tests/test_s3vectors, run against Amazon S3 Vectors).
import {
  CreateIndexCommand,
  CreateVectorBucketCommand,
  DeleteIndexCommand,
  DeleteVectorBucketCommand,
  DeleteVectorBucketPolicyCommand,
  GetIndexCommand,
  GetVectorBucketCommand,
  GetVectorBucketPolicyCommand,
  ListIndexesCommand,
  ListTagsForResourceCommand,
  PutVectorBucketPolicyCommand,
} from '@aws-sdk/client-s3vectors';
import { ACCOUNT, REGION, startTestService, uniqueName, type TestService } from '../helpers/service';
import { answerOf } from './answer';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(() => t.close());

const bucketArn = (name: string) => `arn:aws:s3vectors:${REGION}:${ACCOUNT}:bucket/${name}`;

async function newBucket(): Promise<string> {
  const name = uniqueName('aws-wording');
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name }));
  return name;
}

async function newIndex(bucket: string): Promise<string> {
  const indexName = uniqueName('idx');
  await t.client.send(
    new CreateIndexCommand({ vectorBucketName: bucket, indexName, dataType: 'float32', dimension: 1, distanceMetric: 'euclidean' }),
  );
  return indexName;
}

const NO_BUCKET = { code: 'NotFoundException', status: 404, message: 'The specified vector bucket could not be found' };
const NO_INDEX = { code: 'NotFoundException', status: 404, message: 'The specified index could not be found' };

describe('vector buckets (moto test_s3vector_buckets.py)', () => {
  it('test_get_unknown_vector_bucket / test_delete_unknown_vector_bucket: "The specified vector bucket could not be found"', async () => {
    const name = uniqueName('missing');
    expect(await answerOf(t.client.send(new GetVectorBucketCommand({ vectorBucketName: name })))).toMatchObject(NO_BUCKET);
    expect(await answerOf(t.client.send(new DeleteVectorBucketCommand({ vectorBucketName: name })))).toMatchObject(NO_BUCKET);
  });

  it.each(['sh', 'x'.repeat(64)])(
    'test_create_vector_bucket_with_invalid_length[%s]: "1 validation error detected. Value with length N at \'/vectorBucketName\' ..."',
    async (name) => {
      const message = `Value with length ${name.length} at '/vectorBucketName' failed to satisfy constraint: Member must have length between 3 and 63, inclusive`;
      expect(await answerOf(t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name })))).toEqual({
        code: 'ValidationException',
        status: 400,
        message: `1 validation error detected. ${message}`,
        fieldList: [{ path: '/vectorBucketName', message }],
      });
    },
  );

  it.each(['with_under_score', 'special&char'])('test_create_vector_bucket_with_invalid_chars[%s]: "Invalid vector bucket name"', async (name) => {
    expect(await answerOf(t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name })))).toMatchObject({
      code: 'ValidationException',
      status: 400,
      message: 'Invalid vector bucket name',
    });
  });

  it('test_create_vector_bucket_twice: "A vector bucket with the specified name already exists"', async () => {
    const name = await newBucket();
    expect(await answerOf(t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name })))).toEqual({
      code: 'ConflictException',
      status: 409,
      message: 'A vector bucket with the specified name already exists',
    });
  });

  it('test_create_and_get_vector_bucket: a bucket created without encryption reports {"sseType": "AES256"}', async () => {
    const name = await newBucket();
    for (const ref of [{ vectorBucketName: name }, { vectorBucketArn: bucketArn(name) }]) {
      const { vectorBucket } = await t.client.send(new GetVectorBucketCommand(ref));
      expect(vectorBucket).toMatchObject({ vectorBucketName: name, vectorBucketArn: bucketArn(name) });
      expect(vectorBucket!.encryptionConfiguration).toEqual({ sseType: 'AES256' });
    }
  });

  it('test_delete_bucket_fails_if_index_exists: "The specified vector bucket is not empty"', async () => {
    const bucket = await newBucket();
    const indexName = await newIndex(bucket);
    expect(await answerOf(t.client.send(new DeleteVectorBucketCommand({ vectorBucketName: bucket })))).toEqual({
      code: 'ConflictException',
      status: 409,
      message: 'The specified vector bucket is not empty',
    });
    await t.client.send(new DeleteIndexCommand({ vectorBucketName: bucket, indexName }));
    await t.client.send(new DeleteVectorBucketCommand({ vectorBucketName: bucket }));
  });
});

describe('indexes (moto test_s3vector_indexes.py)', () => {
  let bucket: string;
  beforeAll(async () => {
    bucket = await newBucket();
  });
  const create = (overrides: Record<string, unknown>) =>
    t.client.send(
      new CreateIndexCommand({
        vectorBucketName: bucket,
        indexName: uniqueName('idx'),
        dataType: 'float32',
        dimension: 1,
        distanceMetric: 'euclidean',
        ...overrides,
      } as never),
    );

  it.each([
    ['test_create_index_with_unknown_data_type', '/dataType', { dataType: 'int' }, 'Member must satisfy enum value set: [float32]'],
    ['test_create_index_with_unknown_dimension', '/dimension', { dimension: 99999 }, 'Member must be between 1 and 4096, inclusive'],
    ['test_create_index_with_unknown_distance_metric', '/distanceMetric', { distanceMetric: 'what' }, 'Member must satisfy enum value set: [euclidean, cosine]'],
  ])('%s: "1 validation error detected. Value at \'%s\' ..."', async (_test, path, overrides, rule) => {
    const message = `Value at '${path}' failed to satisfy constraint: ${rule}`;
    expect(await answerOf(create(overrides))).toEqual({
      code: 'ValidationException',
      status: 400,
      message: `1 validation error detected. ${message}`,
      fieldList: [{ path, message }],
    });
  });

  it('spiceai/spiceai issues 7522, 7576 (quoting AWS): "An index with the specified name already exists"', async () => {
    const indexName = await newIndex(bucket);
    expect(await answerOf(create({ indexName }))).toEqual({
      code: 'ConflictException',
      status: 409,
      message: 'An index with the specified name already exists',
    });
  });

  it('spiceai/docs PR 2077 (CreateIndex) and mem0ai/mem0 issue 5361 (GetIndex), quoting AWS: "Invalid index name"', async () => {
    const INVALID = { code: 'ValidationException', status: 400, message: 'Invalid index name' };
    expect(await answerOf(create({ indexName: 'miracl_en' }))).toMatchObject(INVALID);
    expect(await answerOf(t.client.send(new GetIndexCommand({ vectorBucketName: bucket, indexName: 'memories_entities' })))).toMatchObject(INVALID);
  });

  it('test_create_and_get_index_by_name_and_arn: "Must specify either indexArn or both vectorBucketName and indexName"', async () => {
    const indexArn = `${bucketArn(bucket)}/index/${uniqueName('idx')}`;
    expect(await answerOf(t.client.send(new GetIndexCommand({ vectorBucketName: bucket, indexArn })))).toMatchObject({
      code: 'ValidationException',
      status: 400,
      message: 'Must specify either indexArn or both vectorBucketName and indexName',
    });
  });

  it('test_get_index_by_unknown_bucket / _name / _arn: "The specified index could not be found", even when the bucket is missing', async () => {
    const missingIndex = uniqueName('idx');
    expect(await answerOf(t.client.send(new GetIndexCommand({ vectorBucketName: uniqueName('missing'), indexName: missingIndex })))).toMatchObject(
      NO_INDEX,
    );
    expect(await answerOf(t.client.send(new GetIndexCommand({ vectorBucketName: bucket, indexName: missingIndex })))).toMatchObject(NO_INDEX);
    expect(await answerOf(t.client.send(new GetIndexCommand({ indexArn: `${bucketArn(bucket)}/index/${missingIndex}` })))).toMatchObject(NO_INDEX);
  });

  it('test_list_indexes_by_unknown_bucket_name: "The specified vector bucket could not be found"', async () => {
    expect(await answerOf(t.client.send(new ListIndexesCommand({ vectorBucketName: uniqueName('missing') })))).toMatchObject(NO_BUCKET);
  });

  it('test_list_indexes_by_name_and_arn: "Must specify either vectorBucketName or vectorBucketArn but not both"', async () => {
    const name = uniqueName('missing');
    expect(await answerOf(t.client.send(new ListIndexesCommand({ vectorBucketName: name, vectorBucketArn: bucketArn(name) })))).toMatchObject({
      code: 'ValidationException',
      status: 400,
      message: 'Must specify either vectorBucketName or vectorBucketArn but not both',
    });
  });
});

describe('bucket policies (moto test_s3vector_policies.py)', () => {
  const NO_POLICY = { code: 'NotFoundException', status: 404, message: 'The specified vector bucket policy could not be found' };

  it('test_get_default_vector_bucket_policy: "The specified vector bucket policy could not be found"', async () => {
    const bucket = await newBucket();
    expect(await answerOf(t.client.send(new GetVectorBucketPolicyCommand({ vectorBucketName: bucket })))).toEqual(NO_POLICY);
  });

  it('test_get_vector_bucket_policy_for_unknown_bucket: "The specified vector bucket could not be found"', async () => {
    expect(await answerOf(t.client.send(new GetVectorBucketPolicyCommand({ vectorBucketName: uniqueName('missing') })))).toMatchObject(NO_BUCKET);
  });

  it('test_delete_vector_bucket_policy_by_arn / _by_name: after a delete, "The specified vector bucket policy could not be found"', async () => {
    const bucket = await newBucket();
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 's3vectors:*', Resource: bucketArn(bucket) }],
    });
    await t.client.send(new PutVectorBucketPolicyCommand({ vectorBucketArn: bucketArn(bucket), policy }));
    await t.client.send(new DeleteVectorBucketPolicyCommand({ vectorBucketArn: bucketArn(bucket) }));
    expect(await answerOf(t.client.send(new GetVectorBucketPolicyCommand({ vectorBucketName: bucket })))).toEqual(NO_POLICY);
  });

  it('test_put_vector_bucket_policy_by_name / _by_arn: the documentation example (aws-region, amzn-s3-demo-vector-bucket) is accepted on a bucket of another name and returned as put', async () => {
    const bucket = await newBucket();
    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: 's3vectors:*',
          Resource: `arn:aws:s3vectors:aws-region:${ACCOUNT}:bucket/amzn-s3-demo-vector-bucket`,
        },
      ],
    };
    await t.client.send(new PutVectorBucketPolicyCommand({ vectorBucketName: bucket, policy: JSON.stringify(policy) }));
    const got = await t.client.send(new GetVectorBucketPolicyCommand({ vectorBucketArn: bucketArn(bucket) }));
    expect(JSON.parse(got.policy!)).toEqual(policy);
  });
});

describe('empty values on Get* of resources created without them', () => {
  // API reference, data type Index: encryptionConfiguration "By default ... the encryption configuration
  // of the vector bucket"; metadataConfiguration "Required: No", and MetadataConfiguration requires
  // nonFilterableMetadataKeys with at least 1 item, so an index without any has no metadataConfiguration.
  it('GetIndex: no metadataConfiguration, the bucket\'s encryptionConfiguration', async () => {
    const bucket = await newBucket();
    const indexName = await newIndex(bucket);
    const { index } = await t.client.send(new GetIndexCommand({ vectorBucketName: bucket, indexName }));
    expect(index).not.toHaveProperty('metadataConfiguration');
    expect(index!.encryptionConfiguration).toEqual({ sseType: 'AES256' });
  });

  // API reference, ListTagsForResource: the response's tags member is required, so no tags is {}.
  it('ListTagsForResource of an untagged bucket and index: "tags": {}', async () => {
    const bucket = await newBucket();
    const indexName = await newIndex(bucket);
    expect((await t.client.send(new ListTagsForResourceCommand({ resourceArn: bucketArn(bucket) }))).tags).toEqual({});
    expect((await t.client.send(new ListTagsForResourceCommand({ resourceArn: `${bucketArn(bucket)}/index/${indexName}` }))).tags).toEqual({});
  });
});

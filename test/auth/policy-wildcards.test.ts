// Bucket policies accept what IAM accepts for a resource policy on the bucket — wildcards in any
// ARN part — and enforce it, through the SDK against the real server: a Deny on
// arn:aws:s3vectors:*:*:bucket/NAME/* beats even the root identity.
import {
  CreateIndexCommand,
  CreateVectorBucketCommand,
  DeleteIndexCommand,
  DeleteVectorBucketPolicyCommand,
  GetIndexCommand,
  GetVectorBucketCommand,
  PutVectorBucketPolicyCommand,
  PutVectorsCommand,
  QueryVectorsCommand,
} from '@aws-sdk/client-s3vectors';
import { ACCOUNT, REGION, TEST_CREDENTIALS, clientFor, expectAwsError, startTestService, uniqueName, type TestService } from '../helpers/service';

let t: TestService;
beforeAll(async () => {
  t = await startTestService({ auth: { root: TEST_CREDENTIALS, decisionCacheMs: 0 } });
});
afterAll(async () => {
  await t.close();
});

const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

async function bucketWithIndex(): Promise<string> {
  const name = uniqueName('wild');
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name }));
  await t.client.send(new CreateIndexCommand({ vectorBucketName: name, indexName: 'idx', dataType: 'float32', dimension: 2, distanceMetric: 'cosine' }));
  return name;
}

describe('bucket policies with wildcard ARN parts', () => {
  it('a Deny on arn:aws:s3vectors:*:*:bucket/NAME/* is accepted and beats the root identity', async () => {
    const name = await bucketWithIndex();
    const policy = doc({
      Sid: 'LockIndexes',
      Effect: 'Deny',
      Principal: '*',
      Action: ['s3vectors:PutVectors', 's3vectors:DeleteIndex', 's3vectors:QueryVectors'],
      Resource: `arn:aws:s3vectors:*:*:bucket/${name}/*`,
    });
    await t.client.send(new PutVectorBucketPolicyCommand({ vectorBucketName: name, policy }));

    const put = t.client.send(new PutVectorsCommand({ vectorBucketName: name, indexName: 'idx', vectors: [{ key: 'k', data: { float32: [1, 0] } }] }));
    const e = await expectAwsError(put, 'AccessDeniedException', 403);
    expect(e.message).toContain(`arn:aws:iam::${ACCOUNT}:root is not authorized to perform: s3vectors:PutVectors`);
    expect(e.message).toContain('explicit deny');
    await expectAwsError(t.client.send(new DeleteIndexCommand({ vectorBucketName: name, indexName: 'idx' })), 'AccessDeniedException', 403);
    await expectAwsError(t.client.send(new QueryVectorsCommand({ vectorBucketName: name, indexName: 'idx', topK: 1, queryVector: { float32: [1, 0] } })), 'AccessDeniedException', 403);
    // Nothing was deleted; the bucket itself (not under bucket/NAME/*) is still the root's.
    await t.client.send(new GetIndexCommand({ vectorBucketName: name, indexName: 'idx' }));
    await t.client.send(new GetVectorBucketCommand({ vectorBucketName: name }));

    await t.client.send(new DeleteVectorBucketPolicyCommand({ vectorBucketName: name }));
    await t.client.send(new PutVectorsCommand({ vectorBucketName: name, indexName: 'idx', vectors: [{ key: 'k', data: { float32: [1, 0] } }] }));
  });

  it('an Allow on arn:aws:s3vectors:REGION:*:bucket/NAME grants a user of the account', async () => {
    const name = await bucketWithIndex();
    const user = uniqueName('u');
    await t.service.identities.createUser(user);
    const client = clientFor(t.url, await t.service.identities.createAccessKey(user));
    try {
      await expectAwsError(client.send(new GetVectorBucketCommand({ vectorBucketName: name })), 'AccessDeniedException', 403);
      const policy = doc({
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/${user}` },
        Action: 's3vectors:GetVectorBucket',
        Resource: `arn:aws:s3vectors:${REGION}:*:bucket/${name}`,
      });
      await t.client.send(new PutVectorBucketPolicyCommand({ vectorBucketName: name, policy }));
      const got = await client.send(new GetVectorBucketCommand({ vectorBucketName: name }));
      expect(got.vectorBucket?.vectorBucketName).toBe(name);
      // The grant covers the bucket only, not its indexes.
      await expectAwsError(client.send(new GetIndexCommand({ vectorBucketName: name, indexName: 'idx' })), 'AccessDeniedException', 403);
    } finally {
      client.destroy();
    }
  });

  it.each([
    ['another bucket', (n: string) => `arn:aws:s3vectors:*:*:bucket/${n}-other/*`],
    ['another region', (n: string) => `arn:aws:s3vectors:us-west-2:*:bucket/${n}`],
    ['another account', (n: string) => `arn:aws:s3vectors:*:999999999999:bucket/${n}/*`],
  ])('a Resource that can match nothing in this bucket (%s) is accepted, as AWS does, and governs nothing here', async (_, resource) => {
    // AWS accepts such ARNs: moto tests/test_s3vectors/test_s3vector_policies.py (run against AWS)
    // attaches a policy on bucket/amzn-s3-demo-vector-bucket in region "aws-region" to another bucket.
    const name = await bucketWithIndex();
    const policy = doc({ Sid: 'Elsewhere', Effect: 'Deny', Principal: '*', Action: 's3vectors:*', Resource: resource(name) });
    await t.client.send(new PutVectorBucketPolicyCommand({ vectorBucketName: name, policy }));
    await t.client.send(new PutVectorsCommand({ vectorBucketName: name, indexName: 'idx', vectors: [{ key: 'k', data: { float32: [1, 0] } }] }));
    await t.client.send(new GetVectorBucketCommand({ vectorBucketName: name }));
  });

  it('a Resource that is no vector bucket or index ARN is rejected, naming the statement and element', async () => {
    const name = uniqueName('wild');
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name }));
    const resource = `arn:aws:s3:::${name}/*`;
    const policy = doc({ Sid: 'Elsewhere', Effect: 'Deny', Principal: '*', Action: 's3vectors:*', Resource: resource });
    const e = await expectAwsError(t.client.send(new PutVectorBucketPolicyCommand({ vectorBucketName: name, policy })), 'ValidationException', 400);
    expect(e.message).toContain(`Statement[0] (Sid "Elsewhere").Resource: Policy has invalid resource '${resource}'`);
  });
});

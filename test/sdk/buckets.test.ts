import {
  CreateVectorBucketCommand,
  DeleteVectorBucketCommand,
  DeleteVectorBucketPolicyCommand,
  GetVectorBucketCommand,
  GetVectorBucketPolicyCommand,
  ListVectorBucketsCommand,
  paginateListVectorBuckets,
  PutVectorBucketPolicyCommand,
  CreateIndexCommand,
  DeleteIndexCommand,
  ListIndexesCommand,
} from '@aws-sdk/client-s3vectors';
import { ACCOUNT, REGION, expectAwsError, startTestService, uniqueName, type TestService } from '../helpers/service';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(() => t.close());

const arnOf = (name: string) => `arn:aws:s3vectors:${REGION}:${ACCOUNT}:bucket/${name}`;
const policyFor = (name: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
        Action: 's3vectors:QueryVectors',
        Resource: `${arnOf(name)}/index/*`,
      },
    ],
  });

describe('CreateVectorBucket / GetVectorBucket', () => {
  it('creates a bucket and returns it by name and by ARN', async () => {
    const name = uniqueName('bkt');
    const before = Date.now();
    const created = await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name }));
    expect(created.vectorBucketArn).toBe(arnOf(name));
    const byName = await t.client.send(new GetVectorBucketCommand({ vectorBucketName: name }));
    expect(byName.vectorBucket).toMatchObject({
      vectorBucketName: name,
      vectorBucketArn: arnOf(name),
      encryptionConfiguration: { sseType: 'AES256' },
    });
    expect(byName.vectorBucket!.creationTime).toBeInstanceOf(Date);
    expect(byName.vectorBucket!.creationTime!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    const byArn = await t.client.send(new GetVectorBucketCommand({ vectorBucketArn: arnOf(name) }));
    expect(byArn.vectorBucket!.vectorBucketName).toBe(name);
  });

  it('keeps a KMS encryption configuration', async () => {
    const name = uniqueName('kms');
    const kmsKeyArn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name, encryptionConfiguration: { sseType: 'aws:kms', kmsKeyArn } }));
    const got = await t.client.send(new GetVectorBucketCommand({ vectorBucketName: name }));
    expect(got.vectorBucket!.encryptionConfiguration).toEqual({ sseType: 'aws:kms', kmsKeyArn });
    await expectAwsError(
      t.client.send(new CreateVectorBucketCommand({ vectorBucketName: uniqueName('kms'), encryptionConfiguration: { sseType: 'aws:kms' } })),
      'ValidationException',
      400,
    );
  });

  it('refuses a second bucket of the same name with ConflictException', async () => {
    const name = uniqueName('dup');
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name }));
    await expectAwsError(t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name })), 'ConflictException', 409);
  });

  it.each([
    ['too short', 'ab', '/vectorBucketName'],
    ['upper case', 'Bucket-One', '/vectorBucketName'],
    ['underscore', 'my_bucket', '/vectorBucketName'],
    ['leading hyphen', '-bucket', '/vectorBucketName'],
    ['too long', 'a'.repeat(64), '/vectorBucketName'],
  ])('rejects an invalid name (%s) with a ValidationException naming the field', async (_why, name, path) => {
    const error = await expectAwsError(t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name })), 'ValidationException', 400);
    expect(error.fieldList?.[0]?.path).toBe(path);
  });

  it('answers NotFoundException for a bucket that does not exist', async () => {
    await expectAwsError(t.client.send(new GetVectorBucketCommand({ vectorBucketName: uniqueName('none') })), 'NotFoundException', 404);
  });

  it('requires exactly one of name and ARN', async () => {
    const name = uniqueName('both');
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name }));
    await expectAwsError(
      t.client.send(new GetVectorBucketCommand({ vectorBucketName: name, vectorBucketArn: arnOf(name) })),
      'ValidationException',
      400,
    );
    await expectAwsError(t.client.send(new GetVectorBucketCommand({})), 'ValidationException', 400);
  });

  it('denies an ARN of another account and rejects one of another region', async () => {
    const name = uniqueName('foreign');
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name }));
    // Another account's resource: this account's policies grant nothing there.
    await expectAwsError(
      t.client.send(new GetVectorBucketCommand({ vectorBucketArn: `arn:aws:s3vectors:${REGION}:999999999999:bucket/${name}` })),
      'AccessDeniedException',
      403,
    );
    const error = await expectAwsError(
      t.client.send(new GetVectorBucketCommand({ vectorBucketArn: `arn:aws:s3vectors:eu-west-1:${ACCOUNT}:bucket/${name}` })),
      'ValidationException',
      400,
    );
    expect(error.fieldList?.[0]?.path).toBe('/vectorBucketArn');
  });
});

describe('ListVectorBuckets', () => {
  it('pages through buckets with a prefix, each bucket once, in name order', async () => {
    const prefix = uniqueName('list');
    const names = Array.from({ length: 7 }, (_, i) => `${prefix}-${i}`);
    for (const name of names) await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name }));
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: uniqueName('other') }));
    const pages: string[][] = [];
    for await (const page of paginateListVectorBuckets({ client: t.client, pageSize: 3 }, { prefix })) {
      pages.push(page.vectorBuckets!.map((b) => b.vectorBucketName!));
      for (const b of page.vectorBuckets!) expect(b.creationTime).toBeInstanceOf(Date);
    }
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat()).toEqual([...names].sort());
  });

  it('returns no nextToken on the last page', async () => {
    const prefix = uniqueName('last');
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: `${prefix}-a` }));
    const page = await t.client.send(new ListVectorBucketsCommand({ prefix, maxResults: 1 }));
    expect(page.vectorBuckets).toHaveLength(1);
    expect(page.nextToken).toBeUndefined();
  });

  it('rejects forged and foreign tokens with ValidationException', async () => {
    const prefix = uniqueName('tok');
    for (const i of [1, 2]) await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: `${prefix}-${i}` }));
    const first = await t.client.send(new ListVectorBucketsCommand({ prefix, maxResults: 1 }));
    expect(first.nextToken).toBeDefined();
    await expectAwsError(t.client.send(new ListVectorBucketsCommand({ nextToken: 'forged-token' })), 'ValidationException', 400);
    await expectAwsError(
      t.client.send(new ListVectorBucketsCommand({ nextToken: 'A'.repeat(32) })),
      'ValidationException',
      400,
    );
    // The same token with another prefix continues a different listing.
    await expectAwsError(
      t.client.send(new ListVectorBucketsCommand({ prefix: 'zzz', nextToken: first.nextToken })),
      'ValidationException',
      400,
    );
  });

  it('rejects maxResults outside 1..500', async () => {
    await expectAwsError(t.client.send(new ListVectorBucketsCommand({ maxResults: 0 })), 'ValidationException', 400);
    await expectAwsError(t.client.send(new ListVectorBucketsCommand({ maxResults: 501 })), 'ValidationException', 400);
  });
});

describe('DeleteVectorBucket', () => {
  it('deletes an empty bucket and refuses a bucket with indexes', async () => {
    const name = uniqueName('del');
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name }));
    await t.client.send(
      new CreateIndexCommand({ vectorBucketName: name, indexName: 'idx', dataType: 'float32', dimension: 2, distanceMetric: 'euclidean' }),
    );
    await expectAwsError(t.client.send(new DeleteVectorBucketCommand({ vectorBucketName: name })), 'ConflictException', 409);
    await t.client.send(new DeleteIndexCommand({ vectorBucketName: name, indexName: 'idx' }));
    await t.client.send(new DeleteVectorBucketCommand({ vectorBucketArn: arnOf(name) }));
    await expectAwsError(t.client.send(new GetVectorBucketCommand({ vectorBucketName: name })), 'NotFoundException', 404);
    await expectAwsError(t.client.send(new DeleteVectorBucketCommand({ vectorBucketName: name })), 'NotFoundException', 404);
  });
});

describe('DeleteVectorBucket racing CreateIndex', () => {
  it('never lets both succeed, so no index outlives its bucket', async () => {
    for (let round = 0; round < 15; round++) {
      const name = uniqueName('race');
      await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name }));
      const [deleted, created] = await Promise.all([
        t.client.send(new DeleteVectorBucketCommand({ vectorBucketName: name })).then(() => true, () => false),
        t.client
          .send(new CreateIndexCommand({ vectorBucketName: name, indexName: 'idx', dataType: 'float32', dimension: 2, distanceMetric: 'cosine' }))
          .then(() => true, () => false),
      ]);
      expect(deleted && created).toBe(false);
      // Re-creating the name must start empty: no index from the race may resurface.
      if (deleted) {
        await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name }));
        expect((await t.client.send(new ListIndexesCommand({ vectorBucketName: name }))).indexes).toEqual([]);
      }
    }
  });
});

describe('bucket policies', () => {
  it('stores, returns and deletes a policy', async () => {
    const name = uniqueName('pol');
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name }));
    await expectAwsError(t.client.send(new GetVectorBucketPolicyCommand({ vectorBucketName: name })), 'NotFoundException', 404);
    const policy = policyFor(name);
    await t.client.send(new PutVectorBucketPolicyCommand({ vectorBucketName: name, policy }));
    const got = await t.client.send(new GetVectorBucketPolicyCommand({ vectorBucketArn: arnOf(name) }));
    expect(JSON.parse(got.policy!)).toEqual(JSON.parse(policy));
    await t.client.send(new DeleteVectorBucketPolicyCommand({ vectorBucketName: name }));
    await expectAwsError(t.client.send(new GetVectorBucketPolicyCommand({ vectorBucketName: name })), 'NotFoundException', 404);
  });

  it.each([
    ['not JSON', '{not json'],
    ['no Statement', JSON.stringify({ Version: '2012-10-17' })],
    ['an empty object', '{}'],
    ['a null statement', '{"Version":"2012-10-17","Statement":[null]}'],
    ['a null Principal', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: null, Action: 's3vectors:GetIndex', Resource: '*' }] })],
    ['a null condition block', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3vectors:GetIndex', Resource: '*', Condition: { StringEquals: null } }] })],
  ])('rejects a policy that is %s', async (_why, policy) => {
    const name = uniqueName('badpol');
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name }));
    await expectAwsError(t.client.send(new PutVectorBucketPolicyCommand({ vectorBucketName: name, policy })), 'ValidationException', 400);
  });

  it('answers NotFoundException for the policy of a missing bucket', async () => {
    const name = uniqueName('nopol');
    await expectAwsError(
      t.client.send(new PutVectorBucketPolicyCommand({ vectorBucketName: name, policy: policyFor(name) })),
      'NotFoundException',
      404,
    );
  });
});

// Authorization through the SDK with several IAM users: identity and bucket policies combined by
// IAM's rules, the permission coupling of the service model, wildcards, NotAction and conditions.
// The decision cache is off (decisionCacheMs: 0) so no test depends on an earlier answer.
import {
  CreateIndexCommand,
  CreateVectorBucketCommand,
  DeleteVectorBucketCommand,
  GetIndexCommand,
  GetVectorBucketCommand,
  GetVectorsCommand,
  ListIndexesCommand,
  ListVectorsCommand,
  PutVectorBucketPolicyCommand,
  PutVectorsCommand,
  QueryVectorsCommand,
  type S3VectorsClient,
} from '@aws-sdk/client-s3vectors';
import { ACCOUNT, REGION, TEST_CREDENTIALS, clientFor, expectAwsError, startTestService, uniqueName, type TestService } from '../helpers/service';

let t: TestService;
const clients: S3VectorsClient[] = [];
let bucket: string; // root-made, index `idx` (dimension 2) holding two vectors with metadata
let blueBucket: string; // tagged team=blue, index `tagged` tagged team=blue
const INDEX = 'idx';

beforeAll(async () => {
  t = await startTestService({ auth: { root: TEST_CREDENTIALS, decisionCacheMs: 0 } });
  bucket = uniqueName('authz');
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: bucket }));
  await t.client.send(new CreateIndexCommand({ vectorBucketName: bucket, indexName: INDEX, dataType: 'float32', dimension: 2, distanceMetric: 'cosine' }));
  await t.client.send(
    new PutVectorsCommand({
      vectorBucketName: bucket,
      indexName: INDEX,
      vectors: [
        { key: 'a', data: { float32: [1, 0] }, metadata: { genre: 'jazz' } },
        { key: 'b', data: { float32: [0, 1] }, metadata: { genre: 'rock' } },
      ],
    }),
  );
  blueBucket = uniqueName('blue');
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: blueBucket, tags: { team: 'blue' } }));
  await t.client.send(
    new CreateIndexCommand({ vectorBucketName: blueBucket, indexName: 'tagged', dataType: 'float32', dimension: 2, distanceMetric: 'cosine', tags: { team: 'blue' } }),
  );
  await t.client.send(new CreateIndexCommand({ vectorBucketName: blueBucket, indexName: 'plain', dataType: 'float32', dimension: 2, distanceMetric: 'cosine' }));
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await t.close();
});

type Statement = Record<string, unknown>;
const doc = (...statements: Statement[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const allow = (action: string | string[], resource: string | string[] = '*', condition?: object): Statement => ({
  Effect: 'Allow',
  Action: action,
  Resource: resource,
  ...(condition && { Condition: condition }),
});
const deny = (action: string | string[], resource: string | string[] = '*'): Statement => ({ Effect: 'Deny', Action: action, Resource: resource });

const bucketArn = (name: string) => `arn:aws:s3vectors:${REGION}:${ACCOUNT}:bucket/${name}`;
const userArn = (name: string) => `arn:aws:iam::${ACCOUNT}:user/${name}`;

/** A new IAM user with these identity policy statements (none: no policy at all) and an SDK client signed with its key. */
async function userWith(...statements: Statement[]): Promise<{ client: S3VectorsClient; arn: string; name: string }> {
  const name = uniqueName('u');
  await t.service.identities.createUser(name);
  if (statements.length) await t.service.identities.attachPolicy(name, 'inline', doc(...statements));
  const key = await t.service.identities.createAccessKey(name);
  const client = clientFor(t.url, key);
  clients.push(client);
  return { client, arn: userArn(name), name };
}

const denied = (p: Promise<unknown>) => expectAwsError(p, 'AccessDeniedException', 403);
const ok = async (p: Promise<{ $metadata: { httpStatusCode?: number } }>) => expect((await p).$metadata.httpStatusCode).toBe(200);

const query = (extra: Record<string, unknown> = {}) =>
  new QueryVectorsCommand({ vectorBucketName: bucket, indexName: INDEX, topK: 2, queryVector: { float32: [1, 0] }, ...extra });

describe('identity policy × bucket policy', () => {
  type Effect = 'allow' | 'deny' | 'none';
  const cases: [Effect, Effect, boolean][] = [];
  for (const identity of ['allow', 'deny', 'none'] as Effect[]) {
    for (const resource of ['allow', 'deny', 'none'] as Effect[]) {
      const granted = identity !== 'deny' && resource !== 'deny' && (identity === 'allow' || resource === 'allow');
      cases.push([identity, resource, granted]);
    }
  }

  it.each(cases)('identity %s, bucket policy %s → granted: %s', async (identity, resource, granted) => {
    // Deny statements come with an Allow of everything, so the Deny is what decides.
    const statements = identity === 'allow' ? [allow('s3vectors:GetVectorBucket')] : identity === 'deny' ? [allow('s3vectors:*'), deny('s3vectors:GetVectorBucket')] : [];
    const u = await userWith(...statements);
    const name = uniqueName('mx');
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name }));
    if (resource !== 'none') {
      const statement = { Effect: resource === 'allow' ? 'Allow' : 'Deny', Principal: { AWS: u.arn }, Action: 's3vectors:GetVectorBucket', Resource: bucketArn(name) };
      await t.client.send(new PutVectorBucketPolicyCommand({ vectorBucketName: name, policy: doc(statement) }));
    }
    const call = u.client.send(new GetVectorBucketCommand({ vectorBucketName: name }));
    if (granted) await ok(call);
    else {
      const e = await denied(call);
      expect(e.message).toContain(`User: ${u.arn} is not authorized to perform: s3vectors:GetVectorBucket on resource: ${bucketArn(name)}`);
      expect(e.message).toContain(identity === 'deny' || resource === 'deny' ? 'explicit deny' : 'no policy allows');
    }
  });

  it('a Deny in the bucket policy beats an administrator’s Allow *, and nothing is deleted', async () => {
    const admin = await userWith(allow('*'));
    const name = uniqueName('locked');
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name }));
    await t.client.send(
      new PutVectorBucketPolicyCommand({
        vectorBucketName: name,
        policy: doc({ Effect: 'Deny', Principal: '*', Action: ['s3vectors:DeleteVectorBucket', 's3vectors:PutVectorBucketPolicy'], Resource: bucketArn(name) }),
      }),
    );
    await ok(admin.client.send(new GetVectorBucketCommand({ vectorBucketName: name })));
    await denied(admin.client.send(new DeleteVectorBucketCommand({ vectorBucketName: name })));
    await denied(admin.client.send(new PutVectorBucketPolicyCommand({ vectorBucketName: name, policy: doc({ Effect: 'Allow', Principal: '*', Action: 's3vectors:*', Resource: bucketArn(name) }) })));
    await ok(t.client.send(new GetVectorBucketCommand({ vectorBucketName: name })));
  });

  it('a bucket policy grants another user QueryVectors, and only that', async () => {
    const analyst = await userWith();
    const other = await userWith();
    const name = uniqueName('shared');
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name }));
    await t.client.send(new CreateIndexCommand({ vectorBucketName: name, indexName: INDEX, dataType: 'float32', dimension: 2, distanceMetric: 'cosine' }));
    await t.client.send(new PutVectorsCommand({ vectorBucketName: name, indexName: INDEX, vectors: [{ key: 'a', data: { float32: [1, 0] }, metadata: { genre: 'jazz' } }] }));
    await t.client.send(
      new PutVectorBucketPolicyCommand({
        vectorBucketName: name,
        policy: doc({ Effect: 'Allow', Principal: { AWS: analyst.arn }, Action: 's3vectors:QueryVectors', Resource: `${bucketArn(name)}/index/*` }),
      }),
    );
    const q = { vectorBucketName: name, indexName: INDEX, topK: 1, queryVector: { float32: [1, 0] } };
    const out = await analyst.client.send(new QueryVectorsCommand({ ...q, returnDistance: true }));
    expect(out.vectors?.map((v) => v.key)).toEqual(['a']);
    await denied(other.client.send(new QueryVectorsCommand(q)));
    await denied(analyst.client.send(new QueryVectorsCommand({ ...q, returnMetadata: true })));
    await denied(analyst.client.send(new GetIndexCommand({ vectorBucketName: name, indexName: INDEX })));
    await denied(analyst.client.send(new QueryVectorsCommand({ ...q, vectorBucketName: bucket })));
  });
});

describe('permission coupling (each operation’s "Permissions" paragraph), both ways', () => {
  it('QueryVectors with a filter or returnMetadata also needs GetVectors', async () => {
    const queryOnly = await userWith(allow('s3vectors:QueryVectors'));
    const both = await userWith(allow(['s3vectors:QueryVectors', 's3vectors:GetVectors']));
    const getOnly = await userWith(allow('s3vectors:GetVectors'));
    await ok(queryOnly.client.send(query({ returnDistance: true })));
    await ok(queryOnly.client.send(query({ returnMetadata: false })));
    const e = await denied(queryOnly.client.send(query({ filter: { genre: 'jazz' } })));
    expect(e.message).toContain('s3vectors:GetVectors');
    await denied(queryOnly.client.send(query({ returnMetadata: true })));
    const filtered = await both.client.send(query({ filter: { genre: 'jazz' }, returnMetadata: true }));
    expect(filtered.vectors).toEqual([{ key: 'a', metadata: { genre: 'jazz' } }]);
    await denied(getOnly.client.send(query({ filter: { genre: 'jazz' } })));
    await ok(getOnly.client.send(new GetVectorsCommand({ vectorBucketName: bucket, indexName: INDEX, keys: ['a'] })));
  });

  it('ListVectors with returnData or returnMetadata also needs GetVectors', async () => {
    const listOnly = await userWith(allow('s3vectors:ListVectors'));
    const both = await userWith(allow(['s3vectors:ListVectors', 's3vectors:GetVectors']));
    const list = (extra: Record<string, unknown> = {}) => new ListVectorsCommand({ vectorBucketName: bucket, indexName: INDEX, ...extra });
    expect(((await listOnly.client.send(list())).vectors ?? []).map((v) => v.key).sort()).toEqual(['a', 'b']);
    await ok(listOnly.client.send(list({ returnData: false, returnMetadata: false })));
    const e = await denied(listOnly.client.send(list({ returnData: true })));
    expect(e.message).toContain('s3vectors:GetVectors');
    await denied(listOnly.client.send(list({ returnMetadata: true })));
    const full = await both.client.send(list({ returnData: true, returnMetadata: true }));
    expect(full.vectors?.find((v) => v.key === 'a')).toMatchObject({ data: { float32: [1, 0] }, metadata: { genre: 'jazz' } });
  });

  it('CreateVectorBucket with tags also needs TagResource', async () => {
    const createOnly = await userWith(allow('s3vectors:CreateVectorBucket'));
    const both = await userWith(allow(['s3vectors:CreateVectorBucket', 's3vectors:TagResource']));
    await ok(createOnly.client.send(new CreateVectorBucketCommand({ vectorBucketName: uniqueName('ct') })));
    const refused = uniqueName('ct');
    const e = await denied(createOnly.client.send(new CreateVectorBucketCommand({ vectorBucketName: refused, tags: { a: '1' } })));
    expect(e.message).toContain('s3vectors:TagResource');
    await expectAwsError(t.client.send(new GetVectorBucketCommand({ vectorBucketName: refused })), 'NotFoundException', 404);
    await ok(both.client.send(new CreateVectorBucketCommand({ vectorBucketName: uniqueName('ct'), tags: { a: '1' } })));
  });

  it('CreateIndex with tags also needs TagResource', async () => {
    const createOnly = await userWith(allow('s3vectors:CreateIndex'));
    const both = await userWith(allow(['s3vectors:CreateIndex', 's3vectors:TagResource']));
    const index = (indexName: string, tags?: Record<string, string>) =>
      new CreateIndexCommand({ vectorBucketName: bucket, indexName, dataType: 'float32', dimension: 2, distanceMetric: 'euclidean', ...(tags && { tags }) });
    await ok(createOnly.client.send(index(uniqueName('ci'))));
    const refused = uniqueName('ci');
    const e = await denied(createOnly.client.send(index(refused, { a: '1' })));
    expect(e.message).toContain('s3vectors:TagResource');
    await expectAwsError(t.client.send(new GetIndexCommand({ vectorBucketName: bucket, indexName: refused })), 'NotFoundException', 404);
    await ok(both.client.send(index(uniqueName('ci'), { a: '1' })));
  });
});

describe('wildcards and NotAction', () => {
  it('s3vectors:Get* allows every Get action and nothing else', async () => {
    const u = await userWith(allow('s3vectors:Get*'));
    await ok(u.client.send(new GetVectorBucketCommand({ vectorBucketName: bucket })));
    await ok(u.client.send(new GetIndexCommand({ vectorBucketName: bucket, indexName: INDEX })));
    await ok(u.client.send(new GetVectorsCommand({ vectorBucketName: bucket, indexName: INDEX, keys: ['a'] })));
    await denied(u.client.send(new ListIndexesCommand({ vectorBucketName: bucket })));
    await denied(u.client.send(query()));
  });

  it('a resource bucket/<name>/index/* covers that bucket’s indexes, not the bucket nor other buckets', async () => {
    const u = await userWith(allow('s3vectors:*', `${bucketArn(bucket)}/index/*`));
    await ok(u.client.send(new GetIndexCommand({ vectorBucketName: bucket, indexName: INDEX })));
    await ok(u.client.send(query({ filter: { genre: 'rock' } })));
    await denied(u.client.send(new GetVectorBucketCommand({ vectorBucketName: bucket })));
    await denied(u.client.send(new ListIndexesCommand({ vectorBucketName: bucket })));
    await denied(u.client.send(new GetIndexCommand({ vectorBucketName: blueBucket, indexName: 'plain' })));
  });

  it('NotAction allows everything but the listed actions', async () => {
    const u = await userWith({ Effect: 'Allow', NotAction: ['s3vectors:Delete*', 's3vectors:Put*'], Resource: '*' });
    await ok(u.client.send(new GetVectorBucketCommand({ vectorBucketName: bucket })));
    await ok(u.client.send(new ListIndexesCommand({ vectorBucketName: bucket })));
    await denied(u.client.send(new DeleteVectorBucketCommand({ vectorBucketName: blueBucket })));
    await denied(u.client.send(new PutVectorsCommand({ vectorBucketName: bucket, indexName: INDEX, vectors: [{ key: 'z', data: { float32: [1, 1] } }] })));
    await ok(t.client.send(new GetVectorBucketCommand({ vectorBucketName: blueBucket })));
  });
});

describe('conditions', () => {
  const getBucket = (name = bucket) => new GetVectorBucketCommand({ vectorBucketName: name });

  it('aws:SourceIp: 127.0.0.1/32 matches a loopback caller, 10.0.0.0/8 does not', async () => {
    const loopback = await userWith(allow('s3vectors:GetVectorBucket', '*', { IpAddress: { 'aws:SourceIp': '127.0.0.1/32' } }));
    const tenNet = await userWith(allow('s3vectors:GetVectorBucket', '*', { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }));
    const notTenNet = await userWith(allow('s3vectors:GetVectorBucket', '*', { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }));
    await ok(loopback.client.send(getBucket()));
    await denied(tenNet.client.send(getBucket()));
    await ok(notTenNet.client.send(getBucket()));
  });

  it('aws:ResourceTag/… reads the tags of the bucket or index the request touches', async () => {
    const u = await userWith(allow(['s3vectors:GetVectorBucket', 's3vectors:GetIndex'], '*', { StringEquals: { 'aws:ResourceTag/team': 'blue' } }));
    await ok(u.client.send(getBucket(blueBucket)));
    await denied(u.client.send(getBucket(bucket)));
    await ok(u.client.send(new GetIndexCommand({ vectorBucketName: blueBucket, indexName: 'tagged' })));
    await denied(u.client.send(new GetIndexCommand({ vectorBucketName: blueBucket, indexName: 'plain' })));
  });

  it('aws:RequestTag/… and aws:TagKeys read the tags a request sets', async () => {
    const u = await userWith(
      allow(['s3vectors:CreateVectorBucket', 's3vectors:TagResource'], '*', {
        StringEquals: { 'aws:RequestTag/env': 'dev' },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'owner'] },
      }),
    );
    await ok(u.client.send(new CreateVectorBucketCommand({ vectorBucketName: uniqueName('rt'), tags: { env: 'dev', owner: 'me' } })));
    await denied(u.client.send(new CreateVectorBucketCommand({ vectorBucketName: uniqueName('rt'), tags: { env: 'prod' } })));
    await denied(u.client.send(new CreateVectorBucketCommand({ vectorBucketName: uniqueName('rt'), tags: { env: 'dev', cost: '1' } })));
    await denied(u.client.send(new CreateVectorBucketCommand({ vectorBucketName: uniqueName('rt') })));
  });

  it('aws:CurrentTime: DateGreaterThan a past instant matches, a future one does not', async () => {
    const past = await userWith(allow('s3vectors:GetVectorBucket', '*', { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }));
    const future = await userWith(allow('s3vectors:GetVectorBucket', '*', { DateGreaterThan: { 'aws:CurrentTime': '2999-01-01T00:00:00Z' } }));
    await ok(past.client.send(getBucket()));
    await denied(future.client.send(getBucket()));
  });

  it('a condition in a bucket policy: aws:PrincipalArn with ArnLike', async () => {
    const u = await userWith();
    const other = await userWith();
    const name = uniqueName('cond');
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name }));
    await t.client.send(
      new PutVectorBucketPolicyCommand({
        vectorBucketName: name,
        policy: doc({ Effect: 'Allow', Principal: '*', Action: 's3vectors:GetVectorBucket', Resource: bucketArn(name), Condition: { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::*:user/${u.name}` } } }),
      }),
    );
    await ok(u.client.send(getBucket(name)));
    await denied(other.client.send(getBucket(name)));
  });
});

describe('what a client cannot forge', () => {
  it('an ARN in another partition does not slip past a Deny on the bucket', async () => {
    const u = await userWith(allow('s3vectors:*'), deny('s3vectors:*', [bucketArn(bucket), `${bucketArn(bucket)}/*`]));
    await denied(u.client.send(new GetVectorsCommand({ vectorBucketName: bucket, indexName: INDEX, keys: ['a'] })));
    for (const partition of ['aws-cn', 'aws-us-gov']) {
      const indexArn = `arn:${partition}:s3vectors:${REGION}:${ACCOUNT}:bucket/${bucket}/index/${INDEX}`;
      const outcome = await u.client
        .send(new GetVectorsCommand({ indexArn, keys: ['a'], returnData: true, returnMetadata: true }))
        .then(() => 'data returned', (error: Error) => error.name);
      expect(['ValidationException', 'AccessDeniedException']).toContain(outcome);
    }
  });

  it('aws:SecureTransport comes from the connection, not from an X-Forwarded-Proto header', async () => {
    const u = await userWith(allow('s3vectors:ListIndexes'), { Effect: 'Deny', Action: 's3vectors:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    await denied(u.client.send(new ListIndexesCommand({ vectorBucketName: bucket })));
    u.client.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-forwarded-proto'] = 'https';
        return next(args);
      },
      { step: 'build', name: 'forgeForwardedProto' },
    );
    await denied(u.client.send(new ListIndexesCommand({ vectorBucketName: bucket })));
  });
});

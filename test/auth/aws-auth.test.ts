// The AWS deployment's auth path: API Gateway REST proxy events as API Gateway delivers them with
// AWS_IAM authorization, through the real pipeline and catalog; only the IAM client is a stub.
import { simulationArn } from '../../lambdas/core/auth/principal';
import { HANDLER_IAM_ACTIONS, type AwsAuthOptions } from '../../lambdas/runtime/aws-auth';
import { ACCOUNT, startTestService, uniqueName, type TestService } from '../helpers/service';
import {
  alice,
  bucketArn,
  createBucket,
  gatewayPipeline,
  logStub,
  reader,
  ROLE_SESSION_ARN,
  root,
  stubIam,
  USER_ARN,
} from '../aws/gateway-harness';

let t: TestService;
beforeAll(async () => {
  t = await startTestService({ auth: 'off' });
});
afterAll(() => t.close());

const pipeline = (options: AwsAuthOptions) => gatewayPipeline(() => t.service.deps, options);
describe('AWS deployment: caller from the API Gateway request context', () => {
  it('lets the root user in without asking IAM', async () => {
    const iam = stubIam(() => 'implicitDeny');
    const call = pipeline({ iam });
    const name = await createBucket(call);
    expect((await call('GetVectorBucket', { vectorBucketName: name }, root)).statusCode).toBe(200);
    expect(iam.calls).toHaveLength(0);
  });

  it('allows what IAM allows, asking with the principal, action, resource and context keys', async () => {
    const iam = stubIam(() => 'allowed');
    const call = pipeline({ iam });
    const name = await createBucket(pipeline({ iam: stubIam(() => 'implicitDeny') }));
    const res = await call('GetVectorBucket', { vectorBucketName: name }, alice);
    expect(res.statusCode).toBe(200);
    expect(iam.calls).toHaveLength(1);
    const input = iam.calls[0];
    expect(input).toMatchObject({ PolicySourceArn: USER_ARN, ActionNames: ['s3vectors:GetVectorBucket'], ResourceArns: [bucketArn(name)] });
    const context = Object.fromEntries(input.ContextEntries!.map((e) => [e.ContextKeyName, [e.ContextKeyType, e.ContextKeyValues]]));
    expect(context).toMatchObject({
      'aws:SourceIp': ['ip', ['203.0.113.7']],
      'aws:SecureTransport': ['boolean', ['true']],
      'aws:PrincipalArn': ['string', [USER_ARN]],
      'aws:PrincipalAccount': ['string', [ACCOUNT]],
      'aws:username': ['string', ['alice']],
    });
    expect(context['aws:CurrentTime'][0]).toBe('date');
  });

  it('denies what IAM denies, explicitly or implicitly, and writes nothing', async () => {
    for (const answer of ['explicitDeny', 'implicitDeny']) {
      const call = pipeline({ iam: stubIam(() => answer) });
      const name = uniqueName('deny');
      const res = await call('CreateVectorBucket', { vectorBucketName: name }, alice);
      expect({ status: res.statusCode, type: res.errorType }).toEqual({ status: 403, type: 'AccessDeniedException' });
      expect(res.json.message).toContain(`User: ${USER_ARN} is not authorized to perform: s3vectors:CreateVectorBucket`);
      expect(await t.service.deps.catalog.getBucket(name)).toBeUndefined();
    }
  });

  it('asks IAM about every coupled action (QueryVectors with a filter needs GetVectors too)', async () => {
    const iam = stubIam((input) => (input.ActionNames[0] === 's3vectors:QueryVectors' ? 'allowed' : 'implicitDeny'));
    const call = pipeline({ iam });
    const name = await createBucket(call);
    const query = { vectorBucketName: name, indexName: 'idx', topK: 1, queryVector: { float32: [1, 0] } };
    expect((await call('QueryVectors', query, alice)).statusCode).toBe(200);
    const filtered = await call('QueryVectors', { ...query, filter: { a: 1 } }, alice);
    expect({ status: filtered.statusCode, type: filtered.errorType }).toEqual({ status: 403, type: 'AccessDeniedException' });
    expect(filtered.json.message).toContain('s3vectors:GetVectors');
  });

  it('grants through the bucket policy what the identity policies do not', async () => {
    const iam = stubIam(() => 'implicitDeny');
    const call = pipeline({ iam });
    const name = await createBucket(call, (bucket) => ({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: USER_ARN }, Action: 's3vectors:QueryVectors', Resource: `${bucketArn(bucket)}/index/*` }],
    }));
    const query = { vectorBucketName: name, indexName: 'idx', topK: 1, queryVector: { float32: [1, 0] } };
    expect((await call('QueryVectors', query, alice)).statusCode).toBe(200);
    // Not granted to anyone else, and not other actions.
    expect((await call('QueryVectors', query, reader)).statusCode).toBe(403);
    expect((await call('GetIndex', { vectorBucketName: name, indexName: 'idx' }, alice)).statusCode).toBe(403);
  });

  it('a bucket policy naming a role grants that role’s sessions', async () => {
    const iam = stubIam(() => 'implicitDeny');
    const call = pipeline({ iam });
    const name = await createBucket(call, (bucket) => ({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/S3VectorsReader` }, Action: 's3vectors:GetIndex', Resource: `${bucketArn(bucket)}/index/*` }],
    }));
    expect((await call('GetIndex', { vectorBucketName: name, indexName: 'idx' }, reader)).statusCode).toBe(200);
    expect((await call('GetIndex', { vectorBucketName: name, indexName: 'idx' }, alice)).statusCode).toBe(403);
  });

  it('lets an explicit Deny in the bucket policy beat an IAM allow, and limit root too', async () => {
    const iam = stubIam(() => 'allowed');
    const call = pipeline({ iam });
    const name = await createBucket(call);
    await call(
      'PutVectorBucketPolicy',
      {
        vectorBucketName: name,
        policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3vectors:DeleteVectorBucket', Resource: bucketArn(name) }],
        }),
      },
      root,
    );
    const asAlice = await call('DeleteVectorBucket', { vectorBucketName: name }, alice);
    expect({ status: asAlice.statusCode, type: asAlice.errorType }).toEqual({ status: 403, type: 'AccessDeniedException' });
    expect(asAlice.json.message).toContain('explicit deny');
    expect((await call('DeleteVectorBucket', { vectorBucketName: name }, root)).statusCode).toBe(403);
    expect(await t.service.deps.catalog.getBucket(name)).toBeDefined();
  });

  it('simulates an assumed-role session as its role, finding a role under a path through GetRole', async () => {
    const pathRole = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/S3VectorsReader`;
    const iam = stubIam((input) =>
      input.PolicySourceArn === pathRole ? 'allowed' : Object.assign(new Error('The role with name S3VectorsReader cannot be found.'), { name: 'NoSuchEntityException' }),
    );
    iam.getRole.mockResolvedValue({ Role: { Arn: pathRole } });
    const call = pipeline({ iam, log: logStub() });
    expect(simulationArn({ arn: ROLE_SESSION_ARN, accountId: ACCOUNT, kind: 'assumed-role' })).toBe(`arn:aws:iam::${ACCOUNT}:role/S3VectorsReader`);
    expect((await call('ListVectorBuckets', {}, reader)).statusCode).toBe(200);
    expect(iam.calls.map((c) => c.PolicySourceArn)).toEqual([`arn:aws:iam::${ACCOUNT}:role/S3VectorsReader`, pathRole]);
    expect(iam.calls[1].ResourceArns).toBeUndefined(); // ListVectorBuckets has no resource: IAM's default '*'
    expect(iam.getRole).toHaveBeenCalledWith({ RoleName: 'S3VectorsReader' });
    // The role's real ARN is remembered.
    await call('ListVectorBuckets', { maxResults: 5 }, reader);
    expect(iam.getRole).toHaveBeenCalledTimes(1);
  });

  it('caches IAM decisions (one IAM call for repeated requests), per principal, action and resource', async () => {
    const iam = stubIam(() => 'allowed');
    const call = pipeline({ iam });
    const name = await createBucket(pipeline({ iam: stubIam(() => 'implicitDeny') }));
    for (let i = 0; i < 3; i++) expect((await call('GetVectorBucket', { vectorBucketName: name }, alice)).statusCode).toBe(200);
    expect(iam.calls).toHaveLength(1);
    await call('GetIndex', { vectorBucketName: name, indexName: 'idx' }, alice);
    await call('GetVectorBucket', { vectorBucketName: name }, reader);
    expect(iam.calls).toHaveLength(3);
  });

  it('expires cached decisions after S3V_AUTH_CACHE_SECONDS', async () => {
    const iam = stubIam(() => 'allowed');
    let now = Date.parse('2026-11-24T10:15:00Z');
    const steps = { iam, env: { S3V_AUTH_CACHE_SECONDS: '30' }, now: () => new Date(now) };
    const call = pipeline({ ...steps, cacheSeconds: undefined });
    const name = await createBucket(pipeline({ iam: stubIam(() => 'implicitDeny') }));
    await call('GetVectorBucket', { vectorBucketName: name }, alice);
    now += 29_000;
    await call('GetVectorBucket', { vectorBucketName: name }, alice);
    expect(iam.calls).toHaveLength(1);
    now += 2_000;
    await call('GetVectorBucket', { vectorBucketName: name }, alice);
    expect(iam.calls).toHaveLength(2);
  });

  it('IAM throttling is a retryable TooManyRequestsException 429: logged, not cached, and a bucket-policy allow does not help', async () => {
    let failing = true;
    const iam = stubIam(() => (failing ? Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { requestId: 'req-1' } }) : 'allowed'));
    const log = logStub();
    const call = pipeline({ iam, log });
    const name = await createBucket(call);
    await call(
      'PutVectorBucketPolicy',
      {
        vectorBucketName: name,
        policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: USER_ARN }, Action: 's3vectors:GetVectorBucket', Resource: bucketArn(name) }],
        }),
      },
      root,
    );
    const res = await call('GetVectorBucket', { vectorBucketName: name }, alice);
    expect({ status: res.statusCode, type: res.errorType }).toEqual({ status: 429, type: 'TooManyRequestsException' });
    expect(res.json.message).toMatch(/IAM is throttling/);
    expect(log.error).toHaveBeenCalledTimes(1);
    const [fields, message] = log.error.mock.calls[0];
    expect(message).toMatch(/IAM could not be asked/);
    expect(fields).toMatchObject({ err: { name: 'Throttling', message: 'Rate exceeded', requestId: 'req-1' }, principal: USER_ARN, action: 's3vectors:GetVectorBucket' });
    failing = false;
    expect((await call('GetVectorBucket', { vectorBucketName: name }, alice)).statusCode).toBe(200);
    expect(iam.calls).toHaveLength(2);
  });

  it('rejects a request without an IAM identity, and callers from another account', async () => {
    const iam = stubIam(() => 'allowed');
    const call = pipeline({ iam, log: logStub() });
    const noIdentity = await call('ListVectorBuckets', {}, { userArn: '', principalId: '' });
    expect({ status: noIdentity.statusCode, type: noIdentity.errorType }).toEqual({ status: 403, type: 'MissingAuthenticationTokenException' });
    const foreign = await call('ListVectorBuckets', {}, { userArn: 'arn:aws:iam::210987654321:user/mallory', principalId: 'AIDAFOREIGN', accountId: '210987654321' });
    expect({ status: foreign.statusCode, type: foreign.errorType }).toEqual({ status: 403, type: 'AccessDeniedException' });
    const federated = await call('ListVectorBuckets', {}, { userArn: `arn:aws:sts::${ACCOUNT}:federated-user/bob`, principalId: 'x' });
    expect(federated.statusCode).toBe(403);
    expect(iam.calls).toHaveLength(0);
  });

  it('names the IAM actions the handler role needs', () => {
    expect([...HANDLER_IAM_ACTIONS]).toEqual([
      'iam:SimulatePrincipalPolicy',
      'iam:GetRole',
      'iam:ListUserTags',
      'iam:ListRoleTags',
      'iam:GetContextKeysForPrincipalPolicy',
    ]);
  });
});

// What the AWS handlers ask IAM and what they do when IAM fails: the context entries of
// SimulatePrincipalPolicy (region, principal tags, organization, per-request keys), the cache keys,
// decisions shared across functions through the catalog table (real DynamoDB protocol), and IAM
// failures answered with the model's retryable errors, which the real SDK retries.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetVectorBucketCommand, S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { DynamoCatalog } from '../../lambdas/adapters/dynamo-catalog';
import type { IamSimulator } from '../../lambdas/adapters/iam-simulator';
import { DynamoSharedStore } from '../../lambdas/adapters/shared-decisions';
import { startDynalite, type EmbeddedDynamo } from '../../lambdas/local/dynalite';
import type { AwsAuthOptions } from '../../lambdas/runtime/aws-auth';
import { ACCOUNT, REGION, startTestService, type TestService } from '../helpers/service';
import { alice, contextOf, createBucket, gatewayPipeline, logStub, reader, stubIam, USER_ARN, type CallerIdentity } from './gateway-harness';

let t: TestService;
let dynamo: EmbeddedDynamo;
let ddb: DynamoDBClient;
const TABLE = 'shared-decisions-test';
beforeAll(async () => {
  t = await startTestService({ auth: 'off' });
  dynamo = await startDynalite();
  ddb = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await new DynamoCatalog(ddb, TABLE).ensureTable();
});
afterAll(async () => {
  ddb.destroy();
  await dynamo.close();
  await t.close();
});

const pipeline = (options: AwsAuthOptions) => gatewayPipeline(() => t.service.deps, { shared: false, region: REGION, ...options });
let bucketName: string;
beforeAll(async () => {
  bucketName = await createBucket(pipeline({ iam: stubIam(() => 'implicitDeny') }));
});
const getBucket = () => ({ vectorBucketName: bucketName });

describe('SimulatePrincipalPolicy context', () => {
  it('sends aws:RequestedRegion, the user’s tags as aws:PrincipalTag/*, aws:PrincipalOrgID and the caller’s details', async () => {
    const iam = stubIam(() => 'allowed', { tags: { alice: { team: 'vectors', 'cost-center': '42' } }, contextKeys: [] });
    const call = pipeline({ iam });
    const res = await call('GetVectorBucket', getBucket(), { ...alice, principalOrgId: 'o-a1b2c3d4e5' });
    expect(res.statusCode).toBe(200);
    expect(iam.tagCalls).toEqual(['alice']);
    expect(contextOf(iam.calls[0])).toMatchObject({
      'aws:RequestedRegion': ['string', [REGION]],
      'aws:PrincipalTag/team': ['string', ['vectors']],
      'aws:PrincipalTag/cost-center': ['string', ['42']],
      'aws:PrincipalOrgID': ['string', ['o-a1b2c3d4e5']],
      'aws:PrincipalType': ['string', ['User']],
      'aws:userid': ['string', [alice.principalId]],
      'aws:PrincipalIsAWSService': ['boolean', ['false']],
      'aws:SourceIp': ['ip', ['203.0.113.7']],
    });
    expect(contextOf(iam.calls[0])['aws:UserAgent'][1][0]).toMatch(/^Boto3/);
  });

  it('an assumed-role session gets its role’s tags; no aws:PrincipalOrgID when API Gateway reports none', async () => {
    const iam = stubIam(() => 'allowed', { tags: { S3VectorsReader: { tier: 'read' } } });
    const res = await pipeline({ iam })('GetVectorBucket', getBucket(), reader);
    expect(res.statusCode).toBe(200);
    expect(iam.tagCalls).toEqual(['S3VectorsReader']);
    const context = contextOf(iam.calls[0]);
    expect(context).toMatchObject({ 'aws:PrincipalTag/tier': ['string', ['read']], 'aws:PrincipalType': ['string', ['AssumedRole']] });
    expect(context['aws:PrincipalOrgID']).toBeUndefined();
  });

  it('a Control Tower-style region deny (SCP) lets in-region calls through and denies others', async () => {
    // As IAM evaluates such an SCP: Deny when aws:RequestedRegion is not in the list (or missing).
    const scp = stubIam((input) => {
      const region = contextOf(input)['aws:RequestedRegion']?.[1][0];
      return region === 'us-east-1' || region === 'eu-west-1' ? 'allowed' : 'explicitDeny';
    });
    expect((await pipeline({ iam: scp })('GetVectorBucket', getBucket(), alice)).statusCode).toBe(200);
    const outside = await pipeline({ iam: scp, region: 'ap-south-2' })('GetVectorBucket', getBucket(), alice);
    expect({ status: outside.statusCode, type: outside.errorType }).toEqual({ status: 403, type: 'AccessDeniedException' });
  });

  it('an allow that the organization’s SCPs or a permissions boundary do not allow is denied', async () => {
    for (const detail of [{ OrganizationsDecisionDetail: { AllowedByOrganizations: false } }, { PermissionsBoundaryDecisionDetail: { AllowedByPermissionsBoundary: false } }]) {
      const iam: IamSimulator = { simulatePrincipalPolicy: async () => ({ EvaluationResults: [{ EvalActionName: 's3vectors:GetVectorBucket', EvalDecision: 'allowed', ...detail }] }) };
      expect((await pipeline({ iam })('GetVectorBucket', getBucket(), alice)).statusCode).toBe(403);
    }
  });
});

describe('decision cache keys', () => {
  const fromIp = (sourceIp: string): CallerIdentity => ({ ...alice, sourceIp });
  async function callsFor(options: AwsAuthOptions & { iam: ReturnType<typeof stubIam> }): Promise<number> {
    const call = pipeline(options);
    for (const ip of ['203.0.113.7', '198.51.100.20', '192.0.2.33']) expect((await call('GetVectorBucket', getBucket(), fromIp(ip))).statusCode).toBe(200);
    return options.iam.calls.length;
  }

  it('keeps the source IP by default (an SCP may name it, which GetContextKeysForPrincipalPolicy cannot see)', async () => {
    expect(await callsFor({ iam: stubIam(() => 'allowed', { contextKeys: ['aws:RequestedRegion'] }) })).toBe(3);
  });
  it('with S3V_AUTH_CACHE_PER_SOURCE_IP=0, leaves it out when the principal’s policies do not name it', async () => {
    expect(await callsFor({ iam: stubIam(() => 'allowed', { contextKeys: ['aws:RequestedRegion'] }), cachePerSourceIp: false })).toBe(1);
  });
  it('keeps it when a policy names aws:SourceIp, when IAM does not say, or when told to', async () => {
    expect(await callsFor({ iam: stubIam(() => 'allowed', { contextKeys: ['aws:sourceip'] }) })).toBe(3);
    expect(await callsFor({ iam: stubIam(() => 'allowed', { contextKeys: Object.assign(new Error('denied'), { name: 'AccessDenied' }) }) })).toBe(3);
    expect(await callsFor({ iam: stubIam(() => 'allowed') })).toBe(3);
    expect(await callsFor({ iam: stubIam(() => 'allowed', { contextKeys: [] }), cachePerSourceIp: true })).toBe(3);
  });
  it('every session of one role shares its answers', async () => {
    const iam = stubIam(() => 'allowed', { contextKeys: [] });
    const call = pipeline({ iam, cachePerSourceIp: false });
    for (const session of ['botocore-session-1', 'botocore-session-2', 'lambda-xyz']) {
      const caller = { userArn: `arn:aws:sts::${ACCOUNT}:assumed-role/S3VectorsReader/${session}`, principalId: `AROAEXAMPLEROLE00001:${session}` };
      expect((await call('GetVectorBucket', getBucket(), caller)).statusCode).toBe(200);
    }
    expect(iam.calls).toHaveLength(1);
  });
});

describe('decisions shared across functions (catalog table, TTL)', () => {
  it('a second function (its own process cache) asks neither IAM nor for tags again, until the answer expires', async () => {
    const shared = new DynamoSharedStore(ddb, TABLE);
    let now = Date.now();
    const iam = stubIam(() => 'allowed', { tags: { alice: { team: 'vectors' } }, contextKeys: [] });
    const options = { iam, shared, cacheSeconds: 60, now: () => new Date(now) };
    // 22 functions, each with its own in-process cache, cold one after another.
    for (let i = 0; i < 22; i++) expect((await pipeline(options)('GetVectorBucket', getBucket(), alice)).statusCode).toBe(200);
    expect(iam.calls).toHaveLength(1);
    expect(iam.tagCalls).toHaveLength(1);
    const items = (await ddb.send(new ScanCommand({ TableName: TABLE }))).Items ?? [];
    expect(items.length).toBeGreaterThanOrEqual(2);
    for (const item of items) {
      expect(item.pk.S).toMatch(/^AUTHZ#/);
      expect(Number(item.ttl.N)).toBeGreaterThan(now / 1000);
    }
    now += 61_000;
    expect((await pipeline(options)('GetVectorBucket', getBucket(), alice)).statusCode).toBe(200);
    expect(iam.calls).toHaveLength(2);
  });

  it('an answer read from the shared store expires when the stored one does, not a full TTL after the read', async () => {
    // Function A asks IAM at t0; the policy then changes. Function B reads A's shared answer at
    // t0+59 s. At t0+61 s the answer is older than the TTL: B must ask IAM again, not keep A's
    // allow in its own cache until t0+119 s.
    const table = 'shared-decisions-expiry';
    await new DynamoCatalog(ddb, table).ensureTable();
    const shared = new DynamoSharedStore(ddb, table);
    const t0 = Date.now();
    let now = t0;
    let answer = 'allowed';
    const iam = stubIam(() => answer, { tags: {}, contextKeys: [] });
    const options = { iam, shared, cacheSeconds: 60, now: () => new Date(now) };
    expect((await pipeline(options)('GetVectorBucket', getBucket(), alice)).statusCode).toBe(200);
    answer = 'implicitDeny';
    const functionB = pipeline(options);
    now = t0 + 59_000;
    expect((await functionB('GetVectorBucket', getBucket(), alice)).statusCode).toBe(200);
    expect(iam.calls).toHaveLength(1);
    now = t0 + 61_000;
    expect((await functionB('GetVectorBucket', getBucket(), alice)).statusCode).toBe(403);
    expect(iam.calls).toHaveLength(2);
  });

  it('an unexpected shared item is a miss, never an answer', async () => {
    const garbage = { get: async () => ({ value: 'yes', expiresAt: Date.now() + 60_000 }), put: async () => undefined };
    const iam = stubIam(() => 'implicitDeny');
    expect((await pipeline({ iam, shared: garbage })('GetVectorBucket', getBucket(), alice)).statusCode).toBe(403);
    expect(iam.calls).toHaveLength(1);
  });

  it('an unreachable shared store only costs an IAM call', async () => {
    const broken = { get: () => Promise.reject(new Error('ECONNREFUSED')), put: () => Promise.reject(new Error('ECONNREFUSED')) };
    const iam = stubIam(() => 'allowed');
    expect((await pipeline({ iam, shared: broken, log: logStub() })('GetVectorBucket', getBucket(), alice)).statusCode).toBe(200);
    expect(iam.calls).toHaveLength(1);
  });
});

describe('IAM failures', () => {
  const failure = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

  it('IAM unavailable: ServiceUnavailableException 503; tag lookups throttled: TooManyRequestsException 429', async () => {
    const down = await pipeline({ iam: stubIam(() => failure('ServiceFailure', 500)), log: logStub() })('GetVectorBucket', getBucket(), alice);
    expect({ status: down.statusCode, type: down.errorType }).toEqual({ status: 503, type: 'ServiceUnavailableException' });
    const throttledTags = await pipeline({ iam: stubIam(() => 'allowed', { tagsError: failure('Throttling', 400) }), log: logStub() })('GetVectorBucket', getBucket(), alice);
    expect({ status: throttledTags.statusCode, type: throttledTags.errorType }).toEqual({ status: 429, type: 'TooManyRequestsException' });
  });

  it('a principal IAM does not know is denied (403), not a server error', async () => {
    const res = await pipeline({ iam: stubIam(() => failure('NoSuchEntityException', 404)), log: logStub() })('GetVectorBucket', getBucket(), alice);
    expect({ status: res.statusCode, type: res.errorType }).toEqual({ status: 403, type: 'AccessDeniedException' });
  });

  it('an explicit Deny in the bucket policy answers without IAM', async () => {
    const iam = stubIam(() => failure('Throttling', 400));
    const call = pipeline({ iam, log: logStub() });
    const name = await createBucket(call, (b) => ({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Principal: { AWS: USER_ARN }, Action: 's3vectors:GetVectorBucket', Resource: `arn:aws:s3vectors:${REGION}:${ACCOUNT}:bucket/${b}` }],
    }));
    expect((await call('GetVectorBucket', { vectorBucketName: name }, alice)).statusCode).toBe(403);
    expect(iam.calls).toHaveLength(0);
  });

  it('the real SDK retries a throttled request and succeeds once IAM answers', async () => {
    let failures = 2;
    const iam = stubIam(() => (failures-- > 0 ? failure('Throttling', 400) : 'allowed'));
    const call = pipeline({ iam, log: logStub() });
    let attempts = 0;
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        attempts++;
        const out = await call('GetVectorBucket', JSON.parse(Buffer.concat(chunks).toString('utf8')), alice);
        res.writeHead(out.statusCode, out.headers as Record<string, string>).end(out.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const client = new S3VectorsClient({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: REGION,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      maxAttempts: 3,
    });
    try {
      const out = await client.send(new GetVectorBucketCommand({ vectorBucketName: bucketName }));
      expect(out.vectorBucket?.vectorBucketName).toBe(bucketName);
      expect(attempts).toBe(3);
    } finally {
      client.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});


// The AWS deployment's auth path: API Gateway REST proxy events as API Gateway delivers them with
// AWS_IAM authorization, through the real pipeline and catalog; only the IAM client is a stub.
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { IamSimulator, SimulatePrincipalPolicyInput, SimulatePrincipalPolicyOutput } from '../../lambdas/adapters/iam-simulator';
import { simulationArn } from '../../lambdas/core/auth/principal';
import { awsAuthSteps, HANDLER_IAM_ACTIONS, type AwsAuthOptions } from '../../lambdas/runtime/aws-auth';
import { makeHandler } from '../../lambdas/runtime/pipeline';
import { ACCOUNT, REGION, startTestService, uniqueName, type TestService } from '../helpers/service';

let t: TestService;
beforeAll(async () => {
  t = await startTestService({ auth: 'off' });
});
afterAll(() => t.close());

const USER_ARN = `arn:aws:iam::${ACCOUNT}:user/alice`;
const ROLE_SESSION_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/S3VectorsReader/botocore-session-1764000000`;
const ROOT_ARN = `arn:aws:iam::${ACCOUNT}:root`;

// The shape API Gateway (REST API, proxy integration, AWS_IAM authorization) hands a Lambda, as
// recorded from a deployed stage; ids and addresses replaced, header set as botocore sends it.
function recordedEvent(operation: string, body: object, caller: CallerIdentity): APIGatewayProxyEvent {
  const text = JSON.stringify(body);
  const headers = {
    Accept: '*/*',
    'Accept-Encoding': 'identity',
    Authorization: `AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEKEY000001/20261124/${REGION}/execute-api/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=6f0e1a9c0f0d4b1f8d5e4c0e3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a`,
    'Content-Type': 'application/json',
    Host: 'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com',
    'User-Agent': 'Boto3/1.40.0 md/Botocore#1.40.0 ua/2.1 os/linux lang/python#3.12.3 cfg/retry-mode#legacy Botocore/1.40.0',
    'X-Amz-Date': '20261124T101500Z',
    'X-Amzn-Trace-Id': 'Root=1-6923f0ab-0f1e2d3c4b5a69788796a5b4',
    'X-Forwarded-For': '203.0.113.7',
    'X-Forwarded-Port': '443',
    'X-Forwarded-Proto': 'https',
  };
  return {
    resource: `/${operation}`,
    path: `/${operation}`,
    httpMethod: 'POST',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      resourceId: 'x1y2z3',
      resourcePath: `/${operation}`,
      httpMethod: 'POST',
      extendedRequestId: 'UBx3JFd1IAMEbOQ=',
      requestTime: '24/Nov/2026:10:15:00 +0000',
      path: `/prod/${operation}`,
      accountId: ACCOUNT,
      protocol: 'HTTP/1.1',
      stage: 'prod',
      domainPrefix: 'a1b2c3d4e5',
      requestTimeEpoch: 1795515300000,
      requestId: '3b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d',
      identity: {
        cognitoIdentityPoolId: null,
        accountId: caller.accountId ?? ACCOUNT,
        cognitoIdentityId: null,
        caller: caller.principalId,
        sourceIp: '203.0.113.7',
        principalOrgId: null,
        accessKey: 'AKIAEXAMPLEKEY000001',
        cognitoAuthenticationType: null,
        cognitoAuthenticationProvider: null,
        userArn: caller.userArn,
        userAgent: headers['User-Agent'],
        user: caller.principalId,
        apiKey: null,
        apiKeyId: null,
        clientCert: null,
      },
      domainName: 'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com',
      apiId: 'a1b2c3d4e5',
      authorizer: null,
    } as unknown as APIGatewayProxyEvent['requestContext'],
    body: text,
    isBase64Encoded: false,
  };
}

interface CallerIdentity {
  userArn: string;
  principalId: string;
  accountId?: string;
}

const alice: CallerIdentity = { userArn: USER_ARN, principalId: 'AIDAEXAMPLEALICE0001' };
const reader = { userArn: ROLE_SESSION_ARN, principalId: 'AROAEXAMPLEROLE00001:botocore-session-1764000000' };
const root = { userArn: ROOT_ARN, principalId: ACCOUNT };

/** The stubbed IAM: answers from `decide`, records every call. */
function stubIam(decide: (input: SimulatePrincipalPolicyInput) => string | Error): IamSimulator & { calls: SimulatePrincipalPolicyInput[]; getRole: jest.Mock } {
  const calls: SimulatePrincipalPolicyInput[] = [];
  return {
    calls,
    simulatePrincipalPolicy: async (input): Promise<SimulatePrincipalPolicyOutput> => {
      calls.push(input);
      const answer = decide(input);
      if (answer instanceof Error) throw answer;
      return {
        EvaluationResults: input.ActionNames.map((a) => ({ EvalActionName: a, EvalResourceName: input.ResourceArns?.[0] ?? '*', EvalDecision: answer })),
        IsTruncated: false,
      };
    },
    getRole: jest.fn(),
  };
}

function logStub() {
  return { error: jest.fn(), warn: jest.fn(), debug: jest.fn() };
}

type Call = (operation: string, body: object, caller: CallerIdentity) => Promise<APIGatewayProxyResult & { json: Record<string, unknown>; errorType?: string }>;

function pipeline(options: AwsAuthOptions): Call {
  const steps = awsAuthSteps({ cacheSeconds: 60, accountId: ACCOUNT, ...options });
  const handlers = new Map<string, ReturnType<typeof makeHandler>>();
  return async (operation, body, caller) => {
    if (!handlers.has(operation)) handlers.set(operation, makeHandler(operation, async () => t.service.deps, steps));
    const result = (await handlers.get(operation)!(recordedEvent(operation, body, caller), {} as Context as never)) as APIGatewayProxyResult;
    return { ...result, json: JSON.parse(result.body || '{}'), errorType: (result.headers as Record<string, string>)?.['x-amzn-errortype'] };
  };
}

const bucketArn = (name: string) => `arn:aws:s3vectors:${REGION}:${ACCOUNT}:bucket/${name}`;

async function createBucket(call: Call, policy?: (name: string) => object): Promise<string> {
  const name = uniqueName('aws');
  expect((await call('CreateVectorBucket', { vectorBucketName: name }, root)).statusCode).toBe(200);
  await call('CreateIndex', { vectorBucketName: name, indexName: 'idx', dataType: 'float32', dimension: 2, distanceMetric: 'cosine' }, root);
  if (policy) {
    const put = await call('PutVectorBucketPolicy', { vectorBucketName: name, policy: JSON.stringify(policy(name)) }, root);
    expect(put.statusCode).toBe(200);
  }
  return name;
}

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

  it('fails closed on an IAM error: 403, logged, not cached, and a bucket-policy allow does not help', async () => {
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
    expect({ status: res.statusCode, type: res.errorType }).toEqual({ status: 403, type: 'AccessDeniedException' });
    expect(log.error).toHaveBeenCalledTimes(1);
    const [fields, message] = log.error.mock.calls[0];
    expect(message).toMatch(/SimulatePrincipalPolicy failed/);
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
    expect([...HANDLER_IAM_ACTIONS]).toEqual(['iam:SimulatePrincipalPolicy', 'iam:GetRole']);
  });
});

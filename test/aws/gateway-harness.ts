// The AWS deployment's request path without AWS: API Gateway REST proxy events as API Gateway
// delivers them with AWS_IAM authorization, the real pipeline, and a stubbed IAM client.
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { IamSimulator, SimulatePrincipalPolicyInput, SimulatePrincipalPolicyOutput } from '../../lambdas/adapters/iam-simulator';
import type { Deps } from '../../lambdas/core/deps';
import { awsAuthSteps, type AwsAuthOptions } from '../../lambdas/runtime/aws-auth';
import { makeHandler } from '../../lambdas/runtime/pipeline';
import { ACCOUNT, REGION, uniqueName } from '../helpers/service';

export const USER_ARN = `arn:aws:iam::${ACCOUNT}:user/alice`;
export const ROLE_SESSION_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/S3VectorsReader/botocore-session-1764000000`;
export const ROOT_ARN = `arn:aws:iam::${ACCOUNT}:root`;

// The shape API Gateway (REST API, proxy integration, AWS_IAM authorization) hands a Lambda, as
// recorded from a deployed stage; ids and addresses replaced, header set as botocore sends it.
export function recordedEvent(operation: string, body: object, caller: CallerIdentity): APIGatewayProxyEvent {
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
        sourceIp: caller.sourceIp ?? '203.0.113.7',
        principalOrgId: caller.principalOrgId ?? null,
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

export interface CallerIdentity {
  userArn: string;
  principalId: string;
  accountId?: string;
  sourceIp?: string;
  principalOrgId?: string;
}

export const alice: CallerIdentity = { userArn: USER_ARN, principalId: 'AIDAEXAMPLEALICE0001' };
export const reader = { userArn: ROLE_SESSION_ARN, principalId: 'AROAEXAMPLEROLE00001:botocore-session-1764000000' };
export const root = { userArn: ROOT_ARN, principalId: ACCOUNT };

/** The stubbed IAM: answers from `decide`, records every call. */
export interface StubIamExtras {
  /** Tags by user or role name (ListUserTags / ListRoleTags). */
  tags?: Record<string, Record<string, string>>;
  /** GetContextKeysForPrincipalPolicy's answer; an Error makes it fail; undefined leaves the call out. */
  contextKeys?: string[] | Error;
  /** Makes ListUserTags / ListRoleTags fail. */
  tagsError?: Error;
}

/** The stubbed IAM: answers from `decide`, records every call. */
export function stubIam(
  decide: (input: SimulatePrincipalPolicyInput) => string | Error,
  extras: StubIamExtras = {},
): IamSimulator & { calls: SimulatePrincipalPolicyInput[]; getRole: jest.Mock; tagCalls: string[] } {
  const calls: SimulatePrincipalPolicyInput[] = [];
  const tagCalls: string[] = [];
  const tags = async (name: string) => {
    tagCalls.push(name);
    if (extras.tagsError) throw extras.tagsError;
    return { Tags: Object.entries(extras.tags?.[name] ?? {}).map(([Key, Value]) => ({ Key, Value })), IsTruncated: false };
  };
  return {
    calls,
    tagCalls,
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
    listUserTags: ({ UserName }) => tags(UserName),
    listRoleTags: ({ RoleName }) => tags(RoleName),
    ...(extras.contextKeys !== undefined && {
      getContextKeysForPrincipalPolicy: async () => {
        if (extras.contextKeys instanceof Error) throw extras.contextKeys;
        return { ContextKeyNames: extras.contextKeys };
      },
    }),
  };
}

/** The context entries of one SimulatePrincipalPolicy call, by key: [type, values]. */
export function contextOf(input: SimulatePrincipalPolicyInput): Record<string, [string, string[]]> {
  return Object.fromEntries((input.ContextEntries ?? []).map((e) => [e.ContextKeyName, [e.ContextKeyType, e.ContextKeyValues]]));
}

export function logStub() {
  return { error: jest.fn(), warn: jest.fn(), debug: jest.fn() };
}

export type Call = (operation: string, body: object, caller: CallerIdentity) => Promise<APIGatewayProxyResult & { json: Record<string, unknown>; errorType?: string }>;

export function gatewayPipeline(deps: () => Deps, options: AwsAuthOptions): Call {
  const steps = awsAuthSteps({ cacheSeconds: 60, accountId: ACCOUNT, ...options });
  const handlers = new Map<string, ReturnType<typeof makeHandler>>();
  return async (operation, body, caller) => {
    if (!handlers.has(operation)) handlers.set(operation, makeHandler(operation, async () => deps(), steps));
    const result = (await handlers.get(operation)!(recordedEvent(operation, body, caller), {} as Context as never)) as APIGatewayProxyResult;
    return { ...result, json: JSON.parse(result.body || '{}'), errorType: (result.headers as Record<string, string>)?.['x-amzn-errortype'] };
  };
}

export const bucketArn = (name: string) => `arn:aws:s3vectors:${REGION}:${ACCOUNT}:bucket/${name}`;

export async function createBucket(call: Call, policy?: (name: string) => object): Promise<string> {
  const name = uniqueName('aws');
  expect((await call('CreateVectorBucket', { vectorBucketName: name }, root)).statusCode).toBe(200);
  await call('CreateIndex', { vectorBucketName: name, indexName: 'idx', dataType: 'float32', dimension: 2, distanceMetric: 'cosine' }, root);
  if (policy) {
    const put = await call('PutVectorBucketPolicy', { vectorBucketName: name, policy: JSON.stringify(policy(name)) }, root);
    expect(put.statusCode).toBe(200);
  }
  return name;
}


// The S3-mode suite's API Gateway: REST proxy events exactly shaped like API Gateway's with IAM
// auth, and API Gateway's payload limits with the stack's own gateway responses (read from the
// synthesized template): a body over 10 MB is REQUEST_TOO_LARGE; an event over Lambda's 6 MB, or a
// function answer over it, is INTEGRATION_FAILURE, as in AWS.
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { route } from '../../lambdas/local/router';
import { API_GATEWAY_BODY_LIMIT, LAMBDA_REQUEST_LIMIT, LAMBDA_RESPONSE_LIMIT } from '../../lambdas/runtime/payload-limits';

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';
export const STAGE = 'v1';
export const API_ID = 'a1b2c3d4e5';
// The account's root user: its requests never need IAM (which cannot run here); the IAM path of the
// handlers is covered with a stubbed IAM client in test/auth/aws-auth.test.ts and test/aws/.
export const CALLER = { accessKey: 'AKIAIOSFODNN7EXAMPLE', user: ACCOUNT, userArn: `arn:aws:iam::${ACCOUNT}:root` };

export type GatewayResponses = Record<string, { StatusCode?: string; ResponseParameters?: Record<string, string>; ResponseTemplates?: Record<string, string> }>;

/** The stack's AWS::ApiGateway::GatewayResponse resources, by ResponseType. */
export function gatewayResponsesOf(resources: Record<string, { Type: string; Properties: any }>): GatewayResponses {
  return Object.fromEntries(
    Object.values(resources)
      .filter((r) => r.Type === 'AWS::ApiGateway::GatewayResponse')
      .map((r) => [r.Properties.ResponseType as string, r.Properties]),
  );
}

const DEFAULT_STATUS: Record<string, number> = { REQUEST_TOO_LARGE: 413, INTEGRATION_FAILURE: 504 };

/** API Gateway's answer of `type`, customized by the stack's gateway response when it has one. */
export function gatewayAnswer(responses: GatewayResponses, type: string): APIGatewayProxyResult {
  const custom = responses[type];
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() };
  for (const [name, value] of Object.entries(custom?.ResponseParameters ?? {})) {
    headers[name.replace(/^gatewayresponse\.header\./, '')] = value.replace(/^'|'$/g, '');
  }
  const body = custom?.ResponseTemplates?.['application/json'] ?? JSON.stringify({ message: type === 'REQUEST_TOO_LARGE' ? 'Request Too Long' : 'Internal server error' });
  return { statusCode: Number(custom?.StatusCode ?? DEFAULT_STATUS[type] ?? 502), headers, body };
}

/** Which API Gateway / Lambda limit a request or an answer breaks, if any. */
export function gatewayLimit(stage: 'body', body: string): 'REQUEST_TOO_LARGE' | undefined;
export function gatewayLimit(stage: 'event' | 'result', payload: object): 'INTEGRATION_FAILURE' | undefined;
export function gatewayLimit(stage: 'body' | 'event' | 'result', value: string | object): string | undefined {
  if (stage === 'body') return Buffer.byteLength(value as string) > API_GATEWAY_BODY_LIMIT ? 'REQUEST_TOO_LARGE' : undefined;
  const bytes = Buffer.byteLength(JSON.stringify(value));
  return bytes > (stage === 'event' ? LAMBDA_REQUEST_LIMIT : LAMBDA_RESPONSE_LIMIT) ? 'INTEGRATION_FAILURE' : undefined;
}

/** A REST proxy event exactly as API Gateway sends it with AWS_IAM auth. */
export function restEvent(method: string, rawPath: string, query: URLSearchParams, headers: Record<string, string>, body: string): { event: APIGatewayProxyEvent; operation: string } {
  const match = route(method, rawPath);
  if (!match) throw Object.assign(new Error(`no route for ${method} ${rawPath}`), { status: 403 });
  const multiValueQueryStringParameters: Record<string, string[]> = {};
  for (const [name, value] of query) (multiValueQueryStringParameters[name] ??= []).push(value);
  const hasQuery = Object.keys(multiValueQueryStringParameters).length > 0;
  const requestId = randomUUID();
  const now = new Date();
  const event: APIGatewayProxyEvent = {
    resource: match.resource,
    path: rawPath,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: hasQuery ? Object.fromEntries(Object.entries(multiValueQueryStringParameters).map(([k, v]) => [k, v[v.length - 1]])) : null,
    multiValueQueryStringParameters: hasQuery ? multiValueQueryStringParameters : null,
    pathParameters: Object.keys(match.pathParameters).length ? match.pathParameters : null,
    stageVariables: null,
    requestContext: {
      resourceId: 'r3s0ur',
      resourcePath: match.resource,
      httpMethod: method,
      extendedRequestId: 'ExtReqId=',
      requestTime: now.toUTCString(),
      path: `/${STAGE}${rawPath}`,
      accountId: ACCOUNT,
      protocol: 'HTTP/1.1',
      stage: STAGE,
      domainPrefix: API_ID,
      requestTimeEpoch: now.getTime(),
      requestId,
      identity: {
        cognitoIdentityPoolId: null,
        accountId: ACCOUNT,
        cognitoIdentityId: null,
        caller: CALLER.user,
        sourceIp: '127.0.0.1',
        principalOrgId: null,
        accessKey: CALLER.accessKey,
        cognitoAuthenticationType: null,
        cognitoAuthenticationProvider: null,
        userArn: CALLER.userArn,
        userAgent: headers['user-agent'] ?? headers['User-Agent'] ?? '',
        user: CALLER.user,
        apiKey: null,
        apiKeyId: null,
        clientCert: null,
      },
      domainName: `${API_ID}.execute-api.${REGION}.amazonaws.com`,
      deploymentId: 'd3pl0y',
      apiId: API_ID,
      authorizer: null,
    } as unknown as APIGatewayProxyEvent['requestContext'],
    body: body.length ? body : null,
    isBase64Encoded: false,
  };
  return { event, operation: match.operation.name };
}

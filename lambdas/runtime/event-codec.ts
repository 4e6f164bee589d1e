// API Gateway proxy events in, proxy results out. The input of an operation is its JSON body plus
// its URI labels and query parameters, exactly where the model's `location` traits put them.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ProtocolError, ServiceError } from '../core/errors';
import { inputShape, Operation } from '../core/model';
import { payloadBytes, responseTooLarge } from './payload-limits';

function parseBody(event: APIGatewayProxyEvent): Record<string, unknown> {
  if (!event.body) return {};
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ProtocolError('SerializationException', 400, 'The request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ProtocolError('SerializationException', 400, 'The request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function decodeLabel(value: string): string {
  // Clients percent-encode the ARN label (':' and '/'); API Gateway may hand it over either way.
  try {
    return value.includes('%') ? decodeURIComponent(value) : value;
  } catch {
    throw new ProtocolError('SerializationException', 400, `Malformed URI label '${value}'`);
  }
}

export function decodeInput(op: Operation, event: APIGatewayProxyEvent): Record<string, unknown> {
  const input = parseBody(event);
  for (const [name, member] of Object.entries(inputShape(op)?.members ?? {})) {
    const wireName = member.locationName ?? name;
    if (member.location === 'uri') {
      const value = event.pathParameters?.[wireName];
      if (value !== undefined && value !== null) input[name] = decodeLabel(value);
    } else if (member.location === 'querystring') {
      const values = event.multiValueQueryStringParameters?.[wireName] ?? (event.queryStringParameters?.[wireName] !== undefined ? [event.queryStringParameters[wireName]!] : undefined);
      if (values !== undefined) input[name] = values;
    }
  }
  return input;
}

function headers(requestId: string): Record<string, string> {
  return { 'content-type': 'application/json', 'x-amzn-requestid': requestId };
}

/**
 * The largest proxy result the deployment may return (S3V_MAX_RESPONSE_BYTES: the stack sets
 * Lambda's 6 MB; unset locally, where the HTTP server has no such limit).
 */
function responseLimit(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const value = Number(env.S3V_MAX_RESPONSE_BYTES);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

export function successResult(op: Operation, output: object, requestId: string, limit = responseLimit()): APIGatewayProxyResult {
  const result = { statusCode: op.http.responseCode, headers: headers(requestId), body: JSON.stringify(output) };
  // Past the limit Lambda would drop the answer and API Gateway send a bare 502: say what fits instead.
  if (limit !== undefined && result.body.length * 3 + 4096 > limit && payloadBytes(result) > limit) {
    throw responseTooLarge(op.name, output as Record<string, unknown>, result, limit);
  }
  return result;
}

export function errorResult(error: ServiceError, requestId: string): APIGatewayProxyResult {
  return {
    statusCode: error.status,
    headers: { ...headers(requestId), 'x-amzn-errortype': error.code },
    body: JSON.stringify({ message: error.message, ...error.extraMembers() }),
  };
}

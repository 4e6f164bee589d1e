// API Gateway proxy events in, proxy results out. The input of an operation is its JSON body plus
// its URI labels and query parameters, exactly where the model's `location` traits put them.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ProtocolError, ServiceError } from '../core/errors';
import { inputShape, Operation } from '../core/model';
import { payloadBytes, responseTooLarge } from './payload-limits';

/**
 * A body parsed before decoding (the local server parses large ones on a worker thread): the JSON
 * value, or `invalid` when it was not JSON. Vector data may arrive as Float32Array (every value a
 * finite float32) or Float64Array (every value a number, some past float32's range); anything else
 * stays a plain array, so validation words every error as it does for the inline parse. `blank`:
 * the text was empty or white space only, which is no input at all.
 */
export type ParsedBody = { value: unknown } | { invalid: true } | { blank: true };

/** Parses the event's body elsewhere; undefined (or resolving to it): parse it here. */
export type BodyParser = (event: APIGatewayProxyEvent) => Promise<ParsedBody | undefined> | undefined;

const RAW_BODY = Symbol('raw body bytes');

/**
 * Keeps the bytes a body's text was decoded from, when they are valid UTF-8 (so they are the
 * text's own encoding): SigV4 hashes them as they are instead of encoding the text again.
 */
export function keepRawBody(event: APIGatewayProxyEvent, bytes: Buffer): void {
  Object.defineProperty(event, RAW_BODY, { value: bytes, enumerable: false });
}

/** The bytes keepRawBody kept, if any. */
export function rawBody(event: APIGatewayProxyEvent): Buffer | undefined {
  return (event as unknown as Record<symbol, Buffer | undefined>)[RAW_BODY];
}

/** The body's text, or undefined when there is none (no body, or only white space). */
function bodyText(event: APIGatewayProxyEvent): string | undefined {
  if (!event.body) return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  return text.trim() === '' ? undefined : text;
}

function parseJson(text: string): ParsedBody {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { invalid: true };
  }
}

function parseBody(event: APIGatewayProxyEvent, parsed?: ParsedBody): Record<string, unknown> {
  let result = parsed;
  if (result === undefined) {
    const text = bodyText(event);
    result = text === undefined ? { blank: true } : parseJson(text);
  }
  if ('blank' in result) return {};
  if ('invalid' in result) throw new ProtocolError('SerializationException', 400, 'The request body is not valid JSON');
  const body = result.value;
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

/** The operation's input from the event; `parsed`: its body, when a BodyParser already parsed it. */
export function decodeInput(op: Operation, event: APIGatewayProxyEvent, parsed?: ParsedBody): Record<string, unknown> {
  const input = parseBody(event, parsed);
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

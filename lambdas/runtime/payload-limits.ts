// Payload ceilings of the AWS deployment. API Gateway (REST) accepts bodies up to 10 MB; Lambda's
// synchronous invoke carries at most 6 MB each way, and the event (headers and the body as a JSON
// string) counts, so a request body must stay a little under 6 MB. A request over either limit never
// reaches the handler: API Gateway answers with its gateway responses (set in the stack). A response
// over the limit would become a bare 502, so the handler checks its own answer first.
import { ValidationError } from '../core/errors';

/** API Gateway REST's request body limit (10 MB, not raisable). */
export const API_GATEWAY_BODY_LIMIT = 10 * 1024 * 1024;
/** Lambda's synchronous invoke: the event JSON must be smaller than this. */
export const LAMBDA_REQUEST_LIMIT = 6 * 1024 * 1024;
/** Lambda's synchronous invoke: the response JSON must not exceed this (6 MiB + 100 bytes). */
export const LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024 + 100;
/** What the event adds around the body (headers, request context) and a safety margin. */
const EVENT_OVERHEAD = 16 * 1024;
/**
 * JSON bytes per float32 value as the SDKs write them. A float32 widened to a double prints with up
 * to 17 significant digits; unit-length embeddings have components near 1/sqrt(d), so a value reads
 * `-0.0012345678918063641` and boto3 (json.dumps) adds `, `: 24 bytes bound every value from 0.001 to
 * 10 in magnitude (measured averages for unit-length vectors: boto3 22.2–22.5, JS SDK 21.2–21.5).
 */
const JSON_BYTES_PER_FLOAT = 24;
/** Key, `{"data":{"float32":[...]}}` and separators per vector. */
const JSON_BYTES_PER_VECTOR = 64;

/** About how many vectors of `dimension` (without metadata) fit in one PutVectors call through Lambda. */
export function vectorsPerPut(dimension: number, metadataBytes = 0): number {
  return Math.max(1, Math.floor((LAMBDA_REQUEST_LIMIT - EVENT_OVERHEAD) / (dimension * JSON_BYTES_PER_FLOAT + JSON_BYTES_PER_VECTOR + metadataBytes)));
}

export const COMMON_DIMENSIONS = [384, 768, 1024, 1536, 3072, 4096];

/** "1024-d: 254, 1536-d: 169, ..." for messages and the README. */
export function vectorsPerPutTable(): string {
  return COMMON_DIMENSIONS.map((d) => `${d}-d: ${vectorsPerPut(d)}`).join(', ');
}

/** The message of the gateway responses for a request body over the limits. */
export function oversizeRequestMessage(): string {
  return (
    'The request body is larger than this deployment accepts (API Gateway: 10 MB; AWS Lambda: about 6 MB including the request envelope). ' +
    `Send fewer vectors per PutVectors call; at most about (without metadata) ${vectorsPerPutTable()}.`
  );
}

const FIELD: Record<string, string> = { GetVectors: '/keys', QueryVectors: '/topK', ListVectors: '/maxResults' };
const ADVICE: Record<string, (n: number, k: number) => string> = {
  GetVectors: (n, k) => `${n} of the ${k} vectors fit: request at most ${n} keys per GetVectors call with these options`,
  QueryVectors: (n, k) => `${n} of the ${k} results fit: use topK ${n} or less, or leave out returnMetadata`,
  ListVectors: (n, k) => `${n} of the ${k} vectors fit: use maxResults ${n} or less, or leave out returnData/returnMetadata`,
};

/** The serialized size of a Lambda proxy result, as Lambda counts it. */
export const payloadBytes = (result: object) => Buffer.byteLength(JSON.stringify(result));

/**
 * A modeled error for an answer that would exceed `limit`, saying how many vectors fit. `result` is
 * the proxy result about to be returned; `output` the operation's output.
 */
export function responseTooLarge(operation: string, output: Record<string, unknown>, result: { body: string }, limit: number): ValidationError {
  const total = payloadBytes(result);
  const list = Array.isArray(output.vectors) ? (output.vectors as unknown[]) : undefined;
  const why = `The response would be ${total} bytes, over this deployment's ${limit}-byte response limit (AWS Lambda's payload limit)`;
  if (!list || !FIELD[operation]) return new ValidationError(`${why}.`);
  // The envelope without vectors, then each vector as it adds to the escaped body (plus a comma).
  let bytes = payloadBytes({ ...result, body: JSON.stringify({ ...output, vectors: [] }) });
  let fit = 0;
  for (const item of list) {
    bytes += Buffer.byteLength(JSON.stringify(JSON.stringify(item))) - 2 + 1;
    if (bytes > limit) break;
    fit++;
  }
  return ValidationError.field(FIELD[operation], `${why}; ${ADVICE[operation](fit, list.length)}`);
}

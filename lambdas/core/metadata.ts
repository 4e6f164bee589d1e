// Validates one vector's metadata against S3 Vectors' rules and per-vector limits. Pure.
import type { Limits } from './config';
import type { Metadata } from './ports';
import { ValidationError } from './errors';

export interface MetadataContext {
  nonFilterableKeys: ReadonlySet<string>;
  limits: Limits;
  /** PutVectors: the vector's key, for AWS's "Invalid record for key '<key>': ..." frame. */
  recordKey?: string;
}

/**
 * AWS: "S3 Vectors supports string, number, boolean, and list types of metadata". Lists hold those
 * scalars. Sizes are UTF-8 bytes of the JSON text (AWS does not document its byte counting): total
 * = the whole object, filterable = the object with only the filterable keys.
 */
export function checkMetadata(doc: unknown, path: string, ctx: MetadataContext): Metadata {
  try {
    return check(doc, path, ctx);
  } catch (error) {
    if (ctx.recordKey === undefined || !(error instanceof ValidationError)) throw error;
    const problem = error.fieldList[0];
    throw ValidationError.record(problem.path, ctx.recordKey, problem.message);
  }
}

function check(doc: unknown, path: string, ctx: MetadataContext): Metadata {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw ValidationError.field(path, `Metadata must be a JSON object, got ${describe(doc)}`);
  }
  const metadata = doc as Metadata;
  const keys = Object.keys(metadata);
  const { limits } = ctx;
  if (keys.length > limits.maxMetadataKeys) {
    // AWS's words (llama_index issue 19522 quotes the PutVectors answer).
    throw ValidationError.field(path, `Metadata object must have at most ${limits.maxMetadataKeys} keys`);
  }
  for (const key of keys) checkValue(metadata[key], childPath(path, key));

  const total = jsonBytes(metadata);
  if (total > limits.maxMetadataBytes) {
    throw ValidationError.field(
      path,
      `Metadata is ${total} bytes, over the limit of ${limits.maxMetadataBytes} bytes of total metadata per vector by ${total - limits.maxMetadataBytes}`,
    );
  }
  const filterableKeys = keys.filter((k) => !ctx.nonFilterableKeys.has(k));
  // Only measure separately when some key is non-filterable: otherwise it equals the total.
  const filterable = filterableKeys.length === keys.length ? total : jsonBytes(pick(metadata, filterableKeys));
  if (filterable > limits.maxFilterableMetadataBytes) {
    // AWS's words (langchain-aws issue 693 quotes the PutVectors answer).
    throw ValidationError.field(path, `Filterable metadata must have at most ${limits.maxFilterableMetadataBytes} bytes`);
  }
  return metadata;
}

function checkValue(value: unknown, at: string): void {
  if (isScalar(value)) return;
  if (Array.isArray(value)) {
    value.forEach((element, i) => {
      if (!isScalar(element)) {
        throw ValidationError.field(at, `Metadata list elements must be strings, numbers or booleans, got ${describe(element)} at index ${i}`);
      }
    });
    return;
  }
  throw ValidationError.field(at, `Metadata values must be a string, number, boolean or list, got ${describe(value)}`);
}

/** The caller's path style: JSON Pointer (`/vectors/0/metadata`) or dotted. */
function childPath(path: string, key: string): string {
  return path.startsWith('/') ? `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}` : `${path}.${key}`;
}

function isScalar(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isFinite(value) ? 'a number' : 'a non-finite number';
  if (value === undefined) return 'undefined';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

function pick(metadata: Metadata, keys: string[]): Metadata {
  // fromEntries defines own properties, so a key named "__proto__" is measured, not swallowed.
  return Object.fromEntries(keys.map((k) => [k, metadata[k]]));
}

// Vector payloads: every value must be a finite float32, the length must match the index, and
// cosine indexes cannot take a zero vector (it has no direction).
import { ValidationError } from '../errors';
import type { IndexRecord } from '../ports';

/** From any realm: a worker thread's message, a test's VM context. */
function isFloat32Array(values: unknown): values is Float32Array {
  return values instanceof Float32Array || (ArrayBuffer.isView(values) && Object.prototype.toString.call(values) === '[object Float32Array]');
}

/**
 * Writes `values` as float32 into `target` at `offset`, rejecting what AWS rejects. `recordKey`: the
 * PutVectors vector's key, for AWS's "Invalid record for key '<key>': ..." wording.
 */
export function writeFloat32(
  index: IndexRecord,
  values: readonly unknown[] | Float32Array | Float64Array,
  target: Float32Array,
  offset: number,
  path: string,
  recordKey?: string,
): void {
  const fail = (at: string, ours: string, aws = ours): never => {
    throw recordKey === undefined ? ValidationError.field(at, ours) : ValidationError.record(at, recordKey, aws);
  };
  if (values.length !== index.dimension) {
    // AWS's words for PutVectors: moto test_put_vectors_with_wrong_dimension.
    fail(
      path,
      `Vector has ${values.length} dimensions but index ${index.name} expects ${index.dimension}`,
      `vector must have length ${index.dimension}, but has length ${values.length}`,
    );
  }
  let nonZero = false;
  if (isFloat32Array(values)) {
    // Parsed off the event loop (runtime ParsedBody): already finite float32 values, copied at once.
    target.set(values, offset);
    for (let i = 0; i < values.length && !nonZero; i++) if (values[i] !== 0) nonZero = true;
  } else {
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      // Shape validation already ensured numbers; JSON cannot carry NaN, but a value past float32's
      // range would become Infinity once stored.
      const stored = Math.fround(value as number);
      if (!Number.isFinite(stored)) {
        fail(`${path}/${i}`, `Vector values must be finite float32 numbers, got ${String(value)}`);
      }
      target[offset + i] = stored;
      if (stored !== 0) nonZero = true;
    }
  }
  if (!nonZero && index.distanceMetric === 'cosine') {
    // AWS's words for PutVectors: spiceai issue 7109 quotes the answer.
    fail(path, 'Zero vectors are not allowed in an index with the cosine distance metric', 'cosine distance does not support vectors with zero norm');
  }
}

export function toWire(data: Float32Array): { float32: number[] } {
  return { float32: Array.from(data) };
}

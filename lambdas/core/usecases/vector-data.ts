// Vector payloads: every value must be a finite float32, the length must match the index, and
// cosine indexes cannot take a zero vector (it has no direction).
import { ValidationError } from '../errors';
import type { IndexRecord } from '../ports';

/** Writes `values` as float32 into `target` at `offset`, rejecting what AWS rejects. */
export function writeFloat32(
  index: IndexRecord,
  values: readonly unknown[],
  target: Float32Array,
  offset: number,
  path: string,
): void {
  if (values.length !== index.dimension) {
    throw ValidationError.field(path, `Vector has ${values.length} dimensions but index ${index.name} expects ${index.dimension}`);
  }
  let nonZero = false;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    // Shape validation already ensured numbers; JSON cannot carry NaN, but a value past float32's
    // range would become Infinity once stored.
    const stored = Math.fround(value as number);
    if (!Number.isFinite(stored)) {
      throw ValidationError.field(`${path}/${i}`, `Vector values must be finite float32 numbers, got ${String(value)}`);
    }
    target[offset + i] = stored;
    if (stored !== 0) nonZero = true;
  }
  if (!nonZero && index.distanceMetric === 'cosine') {
    throw ValidationError.field(path, 'Zero vectors are not allowed in an index with the cosine distance metric');
  }
}

export function toWire(data: Float32Array): { float32: number[] } {
  return { float32: Array.from(data) };
}

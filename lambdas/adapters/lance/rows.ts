// Small helpers of the LanceDB store: error classification, commit retries, row conversion.
import { ServiceError } from '../../core/errors';
import type { Metadata, ReadOptions, StoredVector } from '../../core/ports';

const COMMIT_RETRIES = 5;

export function isCommitConflict(error: unknown): boolean {
  // "Too many concurrent writers": Lance gave up its own commit retries under contention.
  return /conflict|preempted|retryable|too many concurrent writers/i.test(String(error));
}

export function isMissingTable(error: unknown): boolean {
  return /not found|does not exist/i.test(String(error));
}

/** Runs a commit again when it lost a race Lance could not resolve itself (it is idempotent). */
export async function withCommitRetries<T>(commit: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await commit();
    } catch (error) {
      if (!isCommitConflict(error)) throw error;
      // Still losing to other commits (maintenance, other processes): overload, which SDKs retry.
      if (attempt >= COMMIT_RETRIES) throw new ServiceError('ServiceUnavailableException', 503, 'The index is busy with concurrent changes; retry the request');
      await new Promise((resolve) => setTimeout(resolve, 10 * attempt + Math.random() * 20));
    }
  }
}

/**
 * Drops a table, again when files appeared while it was being removed ("Directory not empty": a
 * writer in another process, or the maintenance worker, committing at that moment).
 */
export async function withDropRetries(drop: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await drop();
    } catch (error) {
      if (isMissingTable(error)) return;
      if (attempt >= COMMIT_RETRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    }
  }
}

export type Row = Record<string, unknown>;

export function and(...predicates: (string | undefined)[]): string | undefined {
  const present = predicates.filter((p): p is string => p !== undefined);
  return present.length ? present.map((p) => `(${p})`).join(' AND ') : undefined;
}

function vectorOf(value: unknown): Float32Array {
  // Arrow gives a Vector for a FixedSizeList cell; toArray() is its Float32Array.
  const array = (value as { toArray(): Float32Array }).toArray();
  return array instanceof Float32Array ? array : Float32Array.from(array);
}

export function toStored(row: Row, options: ReadOptions): StoredVector {
  const stored: StoredVector = { key: row.key as string };
  if (options.data) stored.data = vectorOf(row.vector);
  if (options.metadata && row.metadata != null) stored.metadata = JSON.parse(row.metadata as string) as Metadata;
  return stored;
}

export function columnsFor(options: ReadOptions): string[] {
  return ['key', ...(options.data ? ['vector'] : []), ...(options.metadata ? ['metadata'] : [])];
}

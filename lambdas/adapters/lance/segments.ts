// ListVectors segments: a vector belongs to segment hash(key) mod segmentCount. The hash is stored
// with the row so a segment is a cheap predicate, and it never changes, so segments are disjoint
// and together cover every key exactly once.
//
// Pages are key ranges: the first page of a listing reads the segment's keys once and picks fences
// (every n-th key in order); each page then reads only the keys of its range, `after < key <=
// fence`, which the BTREE on keys answers without touching the rest. A full listing so reads each
// key about twice instead of once per page (quadratic).
import type * as lancedb from '@lancedb/lancedb';
import { compareCodePoints } from '../../core/pagination/key-order';
import { sqlString } from './sql';

export function segmentOf(key: string): number {
  let hash = 0x811c9dc5; // FNV-1a over UTF-16 code units: stable and fast
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 1; // non-negative int32
}

export function segmentPredicate(segmentCount: number, segmentIndex: number): string | undefined {
  return segmentCount > 1 ? `segment % ${segmentCount} = ${segmentIndex}` : undefined;
}

/** `after < key <= upper`, either bound optional. */
export function keyRangePredicate(after: string | undefined, upper: string | undefined): string | undefined {
  const parts = [
    ...(after === undefined ? [] : [`key > ${sqlString(after)}`]),
    ...(upper === undefined ? [] : [`key <= ${sqlString(upper)}`]),
  ];
  return parts.length ? parts.join(' AND ') : undefined;
}

/** Sorts keys in place in UTF-8 byte order (see compareCodePoints); without surrogates, the plain sort is that order. */
export function sortByUtf8(keys: string[]): string[] {
  return keys.some((key) => SURROGATE.test(key)) ? keys.sort(compareCodePoints) : keys.sort();
}

const SURROGATE = /[\uD800-\uDFFF]/;

export async function readKeys(table: lancedb.Table, where: string | undefined): Promise<string[]> {
  let query = table.query().select(['key']);
  if (where) query = query.where(where);
  return ((await query.toArray()) as { key: string }[]).map((row) => row.key);
}

/** Fences are kept in one catalog item: at most this many bytes of keys (DynamoDB items: 400 KB). */
const MAX_FENCE_BYTES = 256_000;

/**
 * Every `every`-th key of the sorted keys, and the last: the upper bounds of ranges of `every` keys.
 * Past MAX_FENCE_BYTES, fewer and wider ranges (a page then reads a few pages' worth of keys).
 */
export function fencesOf(sorted: string[], every: number): string[] {
  if (sorted.length === 0) return [];
  // As stored: JSON text, where a control character takes 6 bytes.
  const fenceBytes = sorted.reduce((n, k) => n + Buffer.byteLength(JSON.stringify(k)) + 1, 0) / every;
  const step = every * Math.max(1, Math.ceil(fenceBytes / MAX_FENCE_BYTES));
  const fences: string[] = [];
  for (let i = step - 1; i < sorted.length - 1; i += step) fences.push(sorted[i]);
  fences.push(sorted[sorted.length - 1]);
  return fences;
}

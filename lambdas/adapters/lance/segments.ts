// ListVectors segments: a vector belongs to segment hash(key) mod segmentCount. The hash is stored
// with the row so a segment is a cheap predicate, and it never changes, so segments are disjoint
// and together cover every key exactly once.
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

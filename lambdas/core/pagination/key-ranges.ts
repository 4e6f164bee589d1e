// ListVectors pages as key ranges (see lambdas/adapters/lance/segments.ts): the first page asks the
// store for fences, keeps them in one immutable cursor item, and each nextToken names the fences,
// the range it is in and the last key listed. A page reads only its range(s), so a listing of N
// keys costs O(N) however many pages it takes.
//
// Under concurrent writes every key present for the whole listing is listed exactly once (ranges
// are disjoint and visited in order); a key written meanwhile is listed when its range is still
// ahead; a deleted one is not listed once deleted.
import { compareCodePoints } from './key-order';
import type { Cursors } from './cursors';
import type { IndexRecord, ListResult, ListVectorsRequest, ReadOptions, StoredVector, VectorStorePort } from '../ports';

interface RangeState {
  after?: string;
  /** Index of the range `after` is in: keys up to fences[range] (none past the last fence). */
  range: number;
  /** Cursor id of the fences item. */
  fences: string;
}

const fencesScope = (scope: string) => `${scope}\nkey-fences`;

/** The range a key is in: the first fence ≥ key, or fences.length past the last. */
function rangeOf(fences: string[], key: string): number {
  let lo = 0;
  let hi = fences.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareCodePoints(fences[mid], key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface KeyRangePage {
  items: StoredVector[];
  /** The next token: after the whole page, or after `lastKey` when the page is cut short there. */
  tokenAfter(lastKey?: string): Promise<string>;
  /** Set when the store may hold more keys after the last item. */
  more: boolean;
}

export class KeyRanges {
  constructor(
    private readonly cursors: Cursors,
    private readonly store: Pick<VectorStorePort, 'list' | 'keyFences'>,
  ) {}

  async page(
    index: IndexRecord,
    scope: string,
    segment: { segmentCount: number; segmentIndex: number },
    limit: number,
    read: ReadOptions,
    nextToken: string | undefined,
  ): Promise<KeyRangePage> {
    let fences: string[];
    let fencesId: string | undefined;
    let state: Omit<RangeState, 'fences'>;
    if (nextToken) {
      const resumed = await this.cursors.resume<RangeState>(nextToken, scope);
      fences = (await this.cursors.resume<{ fences: string[] }>(resumed.fences, fencesScope(scope))).fences;
      fencesId = resumed.fences;
      state = { after: resumed.after, range: resumed.range };
    } else {
      fences = await this.store.keyFences(index, segment.segmentCount, segment.segmentIndex, limit);
      state = { range: 0 };
    }
    const items: StoredVector[] = [];
    let { after, range } = state;
    let more = true;
    let cut = false;
    const list = (request: Partial<ListVectorsRequest>): Promise<ListResult<StoredVector>> =>
      this.store.list(index, { ...segment, ...read, limit: limit - items.length, after, ...request });
    while (items.length < limit) {
      const upper = range < fences.length ? fences[range] : undefined;
      const result = await list({ upper });
      items.push(...result.items);
      if (result.last !== undefined) {
        after = result.last;
        cut = true;
        break;
      }
      // This range is done: everything up to its fence has been listed.
      if (upper === undefined) {
        more = false;
        break;
      }
      after = upper;
      range++;
    }
    if (more && !cut && range >= fences.length - 1) {
      // A full page that ended with a range near the end may have taken the last keys: look ahead
      // (a few keys at most) so that no empty page follows.
      const ahead = await this.store.list(index, { ...segment, data: false, metadata: false, limit: 1, after, upper: undefined });
      more = ahead.items.length > 0;
    }
    return {
      items,
      more,
      tokenAfter: async (lastKey) => {
        fencesId ??= await this.cursors.issue(fencesScope(scope), { fences }, fences.reduce((n, f) => n + f.length + 4, 0));
        const next = lastKey === undefined ? { after, range } : { after: lastKey, range: rangeOf(fences, lastKey) };
        return this.cursors.issue(scope, { ...next, fences: fencesId } satisfies RangeState);
      },
    };
  }
}

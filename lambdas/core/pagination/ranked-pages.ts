// QueryVectors pages after the first are reads, not searches: the first page's search ranks all
// topK hits once, and the hits past the first page are kept in the catalog's cursor store as
// immutable chunks (several pages each, under DynamoDB's 400 KB item limit), so the cursor of page
// n names the chunks and an offset. Every page then comes from one ranking: no repeats or skips,
// and 100 pages cost one search plus 100 small catalog reads.
import type { Cursors } from './cursors';

export interface RankedHit {
  key: string;
  distance: number;
}

interface Chunk {
  /** Position in the ranking of the chunk's first hit. */
  start: number;
  keys: string[];
  distances: number[];
}

interface PageState {
  /** Chunk cursor ids, with the ranking position each starts at. */
  chunks: { id: string; start: number }[];
  offset: number;
  total: number;
}

/** JSON bytes per chunk item: well under DynamoDB's 400 KB, with room for the record around it. */
const CHUNK_BYTES = 300_000;

const chunkScope = (scope: string) => `${scope}\nranked-hits`;

export class RankedPages {
  constructor(private readonly cursors: Cursors) {}

  /**
   * Keeps `hits[pageSize..]` for the pages after the first and returns the first page's nextToken,
   * or undefined when everything fits in one page.
   */
  async first(scope: string, hits: RankedHit[], pageSize: number): Promise<string | undefined> {
    if (hits.length <= pageSize) return undefined;
    const chunks: PageState['chunks'] = [];
    let pending: Chunk | undefined;
    let bytes = 0;
    const flush = async () => {
      if (!pending) return;
      chunks.push({ id: await this.cursors.issue(chunkScope(scope), pending), start: pending.start });
      pending = undefined;
      bytes = 0;
    };
    // Chunks hold whole pages, so a page is always read from one chunk.
    for (let start = pageSize; start < hits.length; start += pageSize) {
      const page = hits.slice(start, start + pageSize);
      const pageBytes = page.reduce((n, h) => n + Buffer.byteLength(h.key) + 32, 0);
      if (pending && bytes + pageBytes > CHUNK_BYTES) await flush();
      pending ??= { start, keys: [], distances: [] };
      for (const h of page) {
        pending.keys.push(h.key);
        pending.distances.push(h.distance);
      }
      bytes += pageBytes;
    }
    await flush();
    return this.cursors.issue(scope, { chunks, offset: pageSize, total: hits.length } satisfies PageState);
  }

  /** The page a nextToken from `first` or `next` continues, and the token for the one after it. */
  async next(token: string, scope: string, pageSize: number): Promise<{ hits: RankedHit[]; nextToken?: string }> {
    const state = await this.cursors.resume<PageState>(token, scope);
    const ref = [...state.chunks].reverse().find((c) => c.start <= state.offset);
    if (!ref) return { hits: [] };
    const chunk = await this.cursors.resume<Chunk>(ref.id, chunkScope(scope));
    const from = state.offset - chunk.start;
    // A page never crosses chunks (they hold whole pages), but a later page size may differ: stop at the chunk's end.
    const to = Math.min(from + pageSize, chunk.keys.length);
    const hits = chunk.keys.slice(from, to).map((key, i) => ({ key, distance: chunk.distances[from + i] }));
    const offset = chunk.start + to;
    const nextToken = offset < state.total ? await this.cursors.issue(scope, { ...state, offset } satisfies PageState) : undefined;
    return { hits, nextToken };
  }
}

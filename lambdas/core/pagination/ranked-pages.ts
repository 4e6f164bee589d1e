// QueryVectors pages after the first are reads, not searches: the first page's search ranks all
// topK hits once, and the hits past the first page are kept in the catalog's cursor store as
// immutable chunks (several pages each, under DynamoDB's 400 KB item limit) listed by one cursor
// item; a page's token is that item's id and the page's offset (`<id>.<offset>`), so later pages
// write nothing. Every page then comes from one ranking: no repeats or skips, and 100 pages cost
// one search plus reads of cursor items (served from memory in the process that issued them).
import { ValidationError } from '../errors';
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

interface RankingState {
  /** Chunk cursor ids, with the ranking position each starts at. */
  chunks: { id: string; start: number }[];
  total: number;
}

const PAGE_TOKEN = /^([A-Za-z0-9_-]{32})\.([1-9][0-9]{0,8})$/;

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
    const chunks: RankingState['chunks'] = [];
    let pending: Chunk | undefined;
    let bytes = 0;
    const flush = async () => {
      if (!pending) return;
      chunks.push({ id: await this.cursors.issue(chunkScope(scope), pending, bytes), start: pending.start });
      pending = undefined;
      bytes = 0;
    };
    // Chunks hold whole pages, so a page is read from one chunk; only a page too large for one
    // item on its own (long keys of characters JSON escapes) is split, and is served as two shorter pages.
    const weight = (h: RankedHit) => Buffer.byteLength(JSON.stringify(h.key)) + 24;
    for (let i = pageSize; i < hits.length; i++) {
      if (pending && (i - pageSize) % pageSize === 0) {
        const pageBytes = hits.slice(i, i + pageSize).reduce((n, h) => n + weight(h), 0);
        if (bytes + pageBytes > CHUNK_BYTES) await flush();
      } else if (pending && bytes + weight(hits[i]) > CHUNK_BYTES) {
        await flush();
      }
      pending ??= { start: i, keys: [], distances: [] };
      pending.keys.push(hits[i].key);
      pending.distances.push(hits[i].distance);
      bytes += weight(hits[i]);
    }
    await flush();
    const id = await this.cursors.issue(scope, { chunks, total: hits.length } satisfies RankingState, 64 * chunks.length);
    return `${id}.${pageSize}`;
  }

  /** The page a nextToken from `first` or `next` continues, and the token for the one after it. */
  async next(token: string, scope: string, pageSize: number): Promise<{ hits: RankedHit[]; nextToken?: string }> {
    const match = PAGE_TOKEN.exec(token);
    if (!match) throw ValidationError.field('/nextToken', 'The pagination token is invalid: malformed token');
    const [, id, at] = match;
    const state = await this.cursors.resume<RankingState>(id, scope);
    const offset = Number(at);
    const ref = [...state.chunks].reverse().find((c) => c.start <= offset);
    if (!ref || offset >= state.total) throw ValidationError.field('/nextToken', 'The pagination token is invalid: malformed token');
    const chunk = await this.cursors.resume<Chunk>(ref.id, chunkScope(scope));
    const from = offset - chunk.start;
    // A page never crosses chunks (they hold whole pages); a token with another offset stops at the chunk's end.
    const to = Math.min(from + pageSize, chunk.keys.length);
    const hits = chunk.keys.slice(from, to).map((key, i) => ({ key, distance: chunk.distances[from + i] }));
    const next = chunk.start + to;
    return { hits, nextToken: next < state.total ? `${id}.${next}` : undefined };
  }
}

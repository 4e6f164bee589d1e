// nextTokens are random ids of cursor items kept in the catalog with a time to live. A token is
// bound to the request it continues (its scope), so a forged, expired or foreign token is refused.
//
// Cursor items are written once under a fresh random id and never changed, so a copy kept in
// process is exact: the items this process issued or read recently are served from memory (a page
// of a QueryVectors ranking is then a map lookup, not a 300 KB catalog read), other processes'
// from the catalog. Expiry and scope are checked on every use either way.
import { randomBytes } from 'node:crypto';
import { ValidationError } from '../errors';
import type { CatalogPort, CursorRecord } from '../ports';

const TOKEN = /^[A-Za-z0-9_-]{32}$/;
/** In-process copies, by approximate size (bytes). */
const CACHE_BYTES = 64 * 1024 * 1024;
const DEFAULT_WEIGHT = 1024;

export class Cursors {
  private readonly cache = new Map<string, { cursor: CursorRecord; weight: number }>();
  private cachedBytes = 0;

  constructor(
    private readonly catalog: Pick<CatalogPort, 'putCursor' | 'getCursor'>,
    private readonly ttlSeconds: number,
    private readonly now: () => number = () => Date.now() / 1000,
  ) {}

  /** `weight`: the state's approximate size in bytes, for the in-process copy's budget. */
  async issue(scope: string, state: unknown, weight = DEFAULT_WEIGHT): Promise<string> {
    const token = randomBytes(24).toString('base64url');
    const cursor = { scope, state, expiresAt: this.now() + this.ttlSeconds };
    await this.catalog.putCursor(token, cursor);
    this.keep(token, cursor, weight);
    return token;
  }

  async resume<T>(token: string, scope: string): Promise<T> {
    const invalid = (why: string) => ValidationError.field('/nextToken', `The pagination token is invalid: ${why}`);
    if (!TOKEN.test(token)) throw invalid('malformed token');
    const cursor = this.cache.get(token)?.cursor ?? (await this.catalog.getCursor(token));
    if (!cursor) throw invalid('unknown token');
    if (cursor.expiresAt <= this.now()) throw invalid('the token has expired; repeat the request without it');
    if (cursor.scope !== scope) throw invalid('the token belongs to a different request');
    return cursor.state as T;
  }

  private keep(token: string, cursor: CursorRecord, weight: number): void {
    if (weight > CACHE_BYTES / 4) return;
    this.cache.set(token, { cursor, weight });
    this.cachedBytes += weight;
    for (const [id, entry] of this.cache) {
      if (this.cachedBytes <= CACHE_BYTES) break;
      this.cache.delete(id);
      this.cachedBytes -= entry.weight;
    }
  }
}

// nextTokens are random ids of cursor items kept in the catalog with a time to live. A token is
// bound to the request it continues (its scope), so a forged, expired or foreign token is refused.
import { randomBytes } from 'node:crypto';
import { ValidationError } from '../errors';
import type { CatalogPort } from '../ports';

const TOKEN = /^[A-Za-z0-9_-]{32}$/;

export class Cursors {
  constructor(
    private readonly catalog: CatalogPort,
    private readonly ttlSeconds: number,
    private readonly now: () => number = () => Date.now() / 1000,
  ) {}

  async issue(scope: string, state: unknown): Promise<string> {
    const token = randomBytes(24).toString('base64url');
    await this.catalog.putCursor(token, { scope, state, expiresAt: this.now() + this.ttlSeconds });
    return token;
  }

  async resume<T>(token: string, scope: string): Promise<T> {
    const invalid = (why: string) => ValidationError.field('/nextToken', `The pagination token is invalid: ${why}`);
    if (!TOKEN.test(token)) throw invalid('malformed token');
    const cursor = await this.catalog.getCursor(token);
    if (!cursor) throw invalid('unknown token');
    if (cursor.expiresAt <= this.now()) throw invalid('the token has expired; repeat the request without it');
    if (cursor.scope !== scope) throw invalid('the token belongs to a different request');
    return cursor.state as T;
  }
}

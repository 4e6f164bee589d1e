// ListVectorBuckets and ListIndexes page the same way: by name, resuming through a cursor.
import type { Deps } from '../deps';
import type { ListRequest, ListResult } from '../ports';

const DEFAULT_MAX_RESULTS = 500;

export async function listPage<T>(
  deps: Deps,
  scope: string,
  input: { maxResults?: number; nextToken?: string },
  fetch: (request: ListRequest) => Promise<ListResult<T>>,
): Promise<{ items: T[]; nextToken?: string }> {
  const after = input.nextToken ? (await deps.cursors.resume<{ after: string }>(input.nextToken, scope)).after : undefined;
  const result = await fetch({ limit: input.maxResults ?? DEFAULT_MAX_RESULTS, after });
  const nextToken = result.last === undefined ? undefined : await deps.cursors.issue(scope, { after: result.last });
  return { items: result.items, nextToken };
}

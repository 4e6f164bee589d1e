// A request can use an index while a DeleteIndex (or a CreateIndex that backs out) removes it. What
// the store then reports (a missing table, files removed under a write) is not a server error: the
// request answers NotFoundException, as it would have a moment later. A write that may have
// re-created the table of a deleted index removes it again, so nothing is left on disk.
import type { Deps } from '../deps';
import { Messages, NotFoundError } from '../errors';
import type { IndexRecord } from '../ports';

async function indexGone(deps: Deps, index: IndexRecord): Promise<boolean> {
  const current = await deps.catalog.getIndex(index.bucketName, index.name);
  return current?.storageId !== index.storageId;
}

function indexNotFound(): NotFoundError {
  return new NotFoundError(Messages.indexNotFound);
}

async function dropQuietly(deps: Deps, index: IndexRecord): Promise<void> {
  // What this leaves (another process still writing) maintenance's orphan sweep removes.
  await deps.store.dropIndex(index).catch(() => undefined);
}

/** Runs a read of the index; a failure because the index went away is NotFoundException. */
export async function readingIndex<T>(deps: Deps, index: IndexRecord, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (await indexGone(deps, index)) throw indexNotFound();
    throw error;
  }
}

/**
 * Runs a write to the index, then confirms the index still exists: if it was deleted meanwhile the
 * write answers NotFoundException (its data went with the index) and its files are removed.
 */
export async function writingIndex(deps: Deps, index: IndexRecord, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (await indexGone(deps, index)) {
      await dropQuietly(deps, index);
      throw indexNotFound();
    }
    throw error;
  }
  if (await indexGone(deps, index)) {
    await dropQuietly(deps, index);
    throw indexNotFound();
  }
}

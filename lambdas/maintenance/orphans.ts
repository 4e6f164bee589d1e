// Tables no index owns any more: left when a DeleteIndex's drop failed, or when a writer in another
// process (a Lambda, the maintenance worker) committed into a table while it was being dropped.
// A storageId is `<bucket>.<index>.<12 hex>` and never reused, so a table whose index record is
// gone, or now names another storageId, is garbage for good.
import type { LanceVectorStore } from '../adapters/lance/lance-store';
import type { Deps } from '../core/deps';

const STORAGE_ID = /^([^.]+)\.(.+)\.([0-9a-f]{12})$/;

/** Whether a table's index lease is held (maintenance-lease.ts indexLeaseHeld). */
export type LeaseHeld = (storageId: string) => Promise<boolean>;

/**
 * Drops the orphaned tables; `owned` are the storageIds this pass saw in the catalog. A table whose
 * index lease is held is left for now: its holder (a build job of an index deleted meanwhile) may
 * still commit into it, and removes it itself when it finds its index gone; the next sweep does if
 * it does not.
 */
export async function sweepOrphans(deps: Pick<Deps, 'catalog'>, store: LanceVectorStore, owned: ReadonlySet<string>, leaseHeld?: LeaseHeld): Promise<string[]> {
  if (typeof deps.catalog.getIndex !== 'function') return [];
  const removed: string[] = [];
  for (const storageId of await store.tableIds()) {
    const parts = STORAGE_ID.exec(storageId);
    if (owned.has(storageId) || !parts) continue;
    // Looked up again: an index created after this pass listed the catalog is not an orphan.
    const current = await deps.catalog.getIndex(parts[1], parts[2]);
    if (current?.storageId === storageId) continue;
    if (await leaseHeld?.(storageId)) continue;
    await store.dropIndex({ storageId });
    removed.push(storageId);
  }
  return removed;
}

// Maintenance's repair of keys stored more than once (by versions before the write lock, whose
// concurrent first writes could both insert): all but one row of each such key are deleted.
import type * as lancedb from '@lancedb/lancedb';
import type { IndexRecord } from '../../core/ports';
import { batchTable, tableSchema } from './arrow-batch';
import { toStored, withCommitRetries, type Row } from './rows';
import { keyIn } from './sql';

export interface RepairContext {
  /** Runs work under the index's write lock. */
  underLock<T>(work: () => Promise<T>): Promise<T>;
  /** Throws when the index was dropped meanwhile. */
  checkNotDropped(): void;
  /** Called under the lock before rows are removed (a hot index cannot follow such a change). */
  rowsRemoved(): void;
}

/**
 * Deletes all but one row of every key stored more than once, keeping the row with the highest
 * row id, in one commit: readers see either the duplicates or one row, never none. Returns the
 * rows removed.
 */
export async function removeDuplicateKeys(table: lancedb.Table, index: IndexRecord, ctx: RepairContext): Promise<number> {
  const seen = new Set<string>();
  const duplicated = new Set<string>();
  for (const row of (await table.query().select(['key']).toArray()) as Row[]) {
    const key = row.key as string;
    if (seen.has(key)) duplicated.add(key);
    else seen.add(key);
  }
  let removed = 0;
  const keys = [...duplicated];
  for (let s = 0; s < keys.length; s += 500) {
    const batch = keys.slice(s, s + 500);
    removed += await ctx.underLock(async () => {
      ctx.checkNotDropped();
      // Row ids change when another process (the maintenance worker, a Lambda) compacts, and the
      // delete below evaluates its predicate on the latest version: read them there, and keep the
      // kept rows' values to put back a key a compaction in between left with no row.
      await table.checkoutLatest();
      const before = await table.version();
      const rows = (await table.query().where(keyIn(batch)).withRowId().select(['key', 'vector', 'metadata']).toArray()) as Row[];
      const keep = new Map<string, { id: bigint; row: Row }>();
      for (const row of rows) {
        const id = BigInt(row._rowid as bigint | number);
        const best = keep.get(row.key as string);
        if (best === undefined || id > best.id) keep.set(row.key as string, { id, row });
      }
      if (rows.length === keep.size) return 0;
      ctx.rowsRemoved();
      await withCommitRetries(() => table.delete(`${keyIn(batch)} AND _rowid NOT IN (${[...keep.values()].map((k) => k.id).join(', ')})`));
      if ((await table.version()) !== before + 1) {
        const left = new Set(((await table.query().where(keyIn(batch)).select(['key']).toArray()) as Row[]).map((r) => r.key as string));
        const lost = [...keep.values()].filter((k) => !left.has(k.row.key as string)).map((k) => toStored(k.row, { data: true, metadata: true }));
        if (lost.length) {
          const data = new Float32Array(lost.length * index.dimension);
          lost.forEach((v, i) => data.set(v.data!, i * index.dimension));
          const restore = batchTable(tableSchema(index.dimension), index.dimension, { keys: lost.map((v) => v.key), data, metadata: lost.map((v) => v.metadata) }, new Set(index.nonFilterableMetadataKeys));
          await withCommitRetries(() => table.mergeInsert('key').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(restore));
        }
      }
      return rows.length - keep.size;
    });
  }
  return removed;
}

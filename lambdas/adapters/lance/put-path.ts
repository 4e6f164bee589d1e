// The PutVectors write path: group commit and plain appends for new keys, under the index write lock.
//
// - Group commit: PutVectors calls queued for one index while another holds its lock are written
//   by the next holder in one commit (one fragment, one manifest write). A request is answered
//   only after the commit holding its rows succeeded; if a group's commit fails, each of its
//   requests is tried again alone, so a failure fails only the requests it belongs to.
// - Appends: Lance's merge-insert joins the batch against every key of the table. Under the lock
//   nobody else writes the index, so looking up which of the batch's keys exist (`key IN (...)`,
//   served by the key BTREE plus a scan of the fragments it does not cover yet) and appending the
//   rest cannot create a duplicate. Only keys that exist go through merge-insert.
import * as arrow from 'apache-arrow';
import type * as lancedb from '@lancedb/lancedb';
import type { Metadata, VectorBatch } from '../../core/ports';
import { keyIn } from './sql';
import type { IndexWriteLock } from './write-lock';
import { withCommitRetries, type Row } from './rows';

export interface PendingPut {
  batch: VectorBatch;
  /** The batch as Arrow, built before the lock is taken (JS work that need not be serialized). */
  data: arrow.Table;
}

interface Entry extends PendingPut {
  done: boolean;
  error?: unknown;
}

/** Rows one group commit takes at most (bounds memory and a commit's duration). */
const MAX_GROUP_ROWS = 8_000;
/** Keys per `key IN (...)` lookup. */
const LOOKUP_CHUNK = 1_000;

export interface GroupWriter {
  /** Inside the lock: the table to write (created on the first write), after the dropped check. */
  table(): Promise<lancedb.Table>;
  /** Builds the Arrow table of a batch (for the rows a group has to split or merge). */
  build(batch: VectorBatch): arrow.Table;
  dimension: number;
  /** Inside the lock, right after a commit succeeded: the requests' batches it wrote, in order (the hot index's delta). */
  committed?(batches: readonly VectorBatch[]): void;
  /** Inside the lock, after a commit failed: what it left is unknown (the hot index is dropped). */
  failed?(): void;
}

export class PutQueue {
  private readonly pending = new Map<string, Entry[]>();

  constructor(private readonly lock: IndexWriteLock) {}

  async put(name: string, put: PendingPut, writer: GroupWriter): Promise<void> {
    const entry: Entry = { ...put, done: false };
    let queue = this.pending.get(name);
    if (!queue) this.pending.set(name, (queue = []));
    queue.push(entry);
    // Queued here and in the lock in the same tick, so the queue's order is the lock's order: when
    // this call's turn comes, every earlier entry is written and this one is first in the queue.
    try {
      await this.lock.run(name, async () => {
        if (entry.done) return;
        await this.commitGroup(this.take(name), writer);
      });
    } catch (error) {
      // The lock itself failed (a lease wait past its limit): this entry was not taken.
      if (!entry.done) {
        this.remove(name, entry);
        throw error;
      }
    }
    if (entry.error !== undefined) throw entry.error;
  }

  private take(name: string): Entry[] {
    const queue = this.pending.get(name)!;
    let rows = 0;
    let n = 0;
    while (n < queue.length && (n === 0 || rows + queue[n].batch.keys.length <= MAX_GROUP_ROWS)) rows += queue[n++].batch.keys.length;
    const group = queue.splice(0, n);
    if (queue.length === 0) this.pending.delete(name);
    return group;
  }

  private remove(name: string, entry: Entry): void {
    const queue = this.pending.get(name);
    const at = queue?.indexOf(entry) ?? -1;
    if (at >= 0) queue!.splice(at, 1);
    if (queue?.length === 0) this.pending.delete(name);
  }

  private async commitGroup(group: Entry[], writer: GroupWriter): Promise<void> {
    try {
      await writeRows(group, writer);
      writer.committed?.(group.map((e) => e.batch));
      for (const e of group) e.done = true;
    } catch (error) {
      writer.failed?.();
      if (group.length === 1) {
        group[0].done = true;
        group[0].error = error;
        return;
      }
      // Nothing of a failed commit is visible (or, past a first commit, rewriting it is an
      // idempotent upsert): each request alone, so only the failing ones fail.
      for (const e of group) {
        try {
          await writeRows([e], writer);
          writer.committed?.([e.batch]);
        } catch (own) {
          writer.failed?.();
          e.error = own;
        }
        e.done = true;
      }
    }
  }
}

/** Which of `keys` the table holds now. */
export async function existingKeys(table: lancedb.Table, keys: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let s = 0; s < keys.length; s += LOOKUP_CHUNK) {
    const rows = (await table.query().where(keyIn(keys.slice(s, s + LOOKUP_CHUNK))).select(['key']).toArray()) as Row[];
    for (const row of rows) found.add(row.key as string);
  }
  return found;
}

/** The table has a scalar index on `key` (maintenance builds the BTREE at 10,000 rows). */
async function hasKeyIndex(table: lancedb.Table): Promise<boolean> {
  return (await table.listIndices()).some((index) => index.columns.length === 1 && index.columns[0] === 'key');
}

/** The requests' own Arrow batches as one table (no copy). */
function concatenated(group: Entry[]): arrow.Table {
  return group.length === 1 ? group[0].data : new arrow.Table(group.flatMap((e) => e.data.batches));
}

/** Writes a group's rows: the last occurrence of a key wins, as a sequence of upserts would. */
async function writeRows(group: Entry[], writer: GroupWriter): Promise<void> {
  const table = await writer.table();
  const keys = group.flatMap((e) => e.batch.keys);
  const unique = new Set(keys);
  const repeated = unique.size !== keys.length;
  if (!(await hasKeyIndex(table))) {
    // Without the key index (a new or small table, before maintenance's first pass) a `key IN
    // (...)` lookup compares every stored key with every batch key: merge-insert's hash join costs
    // less there (measured).
    const data = repeated ? writer.build(split(group, unique, writer.dimension).updated) : concatenated(group);
    await withCommitRetries(() => table.mergeInsert('key').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data));
    return;
  }
  const existing = await existingKeys(table, [...unique]);
  if (existing.size === 0 && !repeated) {
    // The common case (new keys): the requests' own Arrow batches, appended in one commit.
    await withCommitRetries(() => table.add(concatenated(group)));
    return;
  }
  const { added, updated } = split(group, existing, writer.dimension);
  if (added.keys.length > 0) await withCommitRetries(() => table.add(writer.build(added)));
  if (updated.keys.length > 0) {
    await withCommitRetries(() => table.mergeInsert('key').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(writer.build(updated)));
  }
}

/** The group's rows, last occurrence of each key, as the keys to append and the keys to update. */
function split(group: Entry[], existing: ReadonlySet<string>, dimension: number): { added: VectorBatch; updated: VectorBatch } {
  const last = new Map<string, { batch: VectorBatch; row: number }>();
  for (const e of group) e.batch.keys.forEach((key, row) => last.set(key, { batch: e.batch, row }));
  const build = (take: (key: string) => boolean): VectorBatch => {
    const chosen = [...last].filter(([key]) => take(key));
    const data = new Float32Array(chosen.length * dimension);
    const metadata: (Metadata | undefined)[] = [];
    chosen.forEach(([, { batch, row }], i) => {
      data.set(batch.data.subarray(row * dimension, (row + 1) * dimension), i * dimension);
      metadata.push(batch.metadata[row]);
    });
    return { keys: chosen.map(([key]) => key), data, metadata };
  };
  return { added: build((key) => !existing.has(key)), updated: build((key) => existing.has(key)) };
}

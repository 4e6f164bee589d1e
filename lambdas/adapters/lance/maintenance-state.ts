// Per-index maintenance state (last run, rows at the last ANN training, ...) in one small Lance table
// next to the index tables, so it lives wherever the vectors live (local folder or S3) and any
// process (the server, the scheduled Lambda, `npm run status`) can read it. Its name starts with
// `_`, which no storageId does (they start with a bucket name).
import * as arrow from 'apache-arrow';
import type * as lancedb from '@lancedb/lancedb';
import { sqlString } from './sql';

export const STATE_TABLE = '_s3v_maintenance';

export interface MaintenanceState {
  /** Epoch ms of the last run that looked at the index. */
  lastRunAt?: number;
  lastOutcome?: 'ok' | 'failed' | 'partial';
  /** What the last run did, e.g. ["optimize", "vector-index"]. */
  lastActions?: string[];
  lastError?: string;
  lastDurationMs?: number;
  /** Rows in the table when the ANN index was last trained (built or rebuilt). */
  trainedRows?: number;
  trainedAt?: number;
  lastOptimizeAt?: number;
  /** Optimizes in a row whose compaction lost its commit to concurrent writes (reset by one that commits). */
  compactFailures?: number;
  /** Epoch ms before which no compaction is tried again (backing off after compactFailures). */
  compactRetryAt?: number;
  /** Milliseconds the last optimize took (a lost one: up to its failed commit), to tell whether it may hold the write lock. */
  optimizeMs?: number;
  /** Epoch ms an optimize last lost its commit to concurrent writes (then it runs under the write lock while short). */
  compactContendedAt?: number;
  /** Epoch ms of the last fold without compaction (indexes rebuilt over the rows present). */
  lastFoldAt?: number;
  /** When the table was checked for keys stored twice (by versions before the write lock). */
  keysCheckedAt?: number;
  /** Table version right after the last run, to tell whether anything was written since. */
  versionAfterRun?: number;
}

const schema = new arrow.Schema([
  new arrow.Field('storage_id', new arrow.Utf8(), false),
  new arrow.Field('state', new arrow.Utf8(), false),
]);

function isMissing(error: unknown): boolean {
  return /not found|does not exist/i.test(String(error));
}

export class MaintenanceStateTable {
  private table?: Promise<lancedb.Table | undefined>;

  constructor(private readonly db: () => Promise<lancedb.Connection>) {}

  private open(create: boolean): Promise<lancedb.Table | undefined> {
    const existing = this.table;
    if (existing) return existing;
    const opened = this.db().then(async (db) => {
      try {
        return await db.openTable(STATE_TABLE);
      } catch (error) {
        if (!isMissing(error)) throw error;
        return create ? db.createEmptyTable(STATE_TABLE, schema, { existOk: true }) : undefined;
      }
    });
    this.table = opened;
    opened.then((t) => t === undefined && (this.table = undefined)).catch(() => (this.table = undefined));
    return opened;
  }

  async readAll(): Promise<Map<string, MaintenanceState>> {
    const table = await this.open(false);
    const states = new Map<string, MaintenanceState>();
    if (!table) return states;
    await table.checkoutLatest().catch(() => undefined);
    for (const row of (await table.query().toArray()) as { storage_id: string; state: string }[]) {
      states.set(row.storage_id, JSON.parse(row.state) as MaintenanceState);
    }
    return states;
  }

  async read(storageId: string): Promise<MaintenanceState | undefined> {
    const table = await this.open(false);
    if (!table) return undefined;
    const rows = (await table.query().where(`storage_id = ${sqlString(storageId)}`).toArray()) as { state: string }[];
    return rows.length ? (JSON.parse(rows[0].state) as MaintenanceState) : undefined;
  }

  async write(storageId: string, state: MaintenanceState): Promise<void> {
    const table = (await this.open(true))!;
    const children = [storageId, JSON.stringify(state)].map((text) => arrow.vectorFromArray([text], new arrow.Utf8()).data[0]);
    const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: 1, nullCount: 0, children });
    const data = new arrow.Table([new arrow.RecordBatch(schema, struct)]);
    await table.mergeInsert('storage_id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data);
  }

  async remove(storageIds: string[]): Promise<void> {
    if (storageIds.length === 0) return;
    const table = await this.open(false);
    await table?.delete(`storage_id IN (${storageIds.map(sqlString).join(', ')})`);
  }

  /** Compacts the state table and drops its versions older than `olderThan`. */
  async compact(olderThan: Date): Promise<void> {
    const table = await this.open(false);
    await table?.optimize({ cleanupOlderThan: olderThan });
  }

  close(): void {
    const table = this.table;
    this.table = undefined;
    table?.then((t) => t?.close()).catch(() => undefined);
  }
}

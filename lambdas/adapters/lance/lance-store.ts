// The vector store on LanceDB: one table per index, named by the index's storageId, under a storage
// root (a local folder, or s3+ddb:// in AWS). Tables are created on the first write.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import type {
  IndexRecord,
  ListResult,
  ListVectorsRequest,
  QueryHit,
  QueryRequest,
  ReadOptions,
  StoredVector,
  VectorBatch,
  VectorStorePort,
} from '../../core/ports';
import { batchTable, tableSchema } from './arrow-batch';
import { connectLance } from './cache-session';
import { PutQueue } from './put-path';
import {
  KEY_INDEX_NAME,
  TOKENS_INDEX_NAME,
  VECTOR_COLUMN,
  VECTOR_INDEX_NAME,
  readTableStats,
  type TableStats,
  type VectorIndexParams,
} from './index-stats';
import { MaintenanceStateTable } from './maintenance-state';
import { searchSettingsFromEnv, type SearchSettings } from './search-plan';
import { Searcher } from './searcher';
import { fencesOf, keyRangePredicate, readKeys, segmentPredicate, sortByUtf8 } from './segments';
import { removeDuplicateKeys } from './duplicate-keys';
import { and, columnsFor, isMissingTable, toStored, withCommitRetries, withDropRetries, type Row } from './rows';
import { keyIn } from './sql';
import { commitTableLease, IndexWriteLock } from './write-lock';
import type { HotIndexSettings } from '../hot/hot-config';
import { HotIndexes, type HotStats } from '../hot/hot-indexes';
import { withHotMetadata } from '../hot/hot-metadata';

export interface LanceStoreOptions {
  /** Folder path or URI (s3://, s3+ddb://) holding one Lance table per index. */
  uri: string;
  storageOptions?: Record<string, string>;
  /**
   * Seconds between checks for other processes' commits; 0 checks on every read (Lambda, where
   * several processes write one table), undefined never does (the local server is the only writer).
   */
  readConsistencySeconds?: number;
  /** Query planning; by default from S3V_FAST_SEARCH, S3V_SEARCH_* and S3V_EXACT_FILTER_MAX_ROWS. */
  search?: Partial<SearchSettings>;
}

export type ScalarIndexKind = 'BTREE' | 'LABEL_LIST';

/** storageIds are never reused: remembering recent drops is enough to refuse late writes. */
const MAX_REMEMBERED_DROPS = 10_000;

export class LanceVectorStore implements VectorStorePort {
  private connection?: Promise<lancedb.Connection>;
  private readonly tables = new Map<string, Promise<lancedb.Table | undefined>>();
  /** Table creation in flight, so concurrent first writes create the table once. */
  private readonly creating = new Map<string, Promise<lancedb.Table>>();
  private readonly searcher: Searcher;
  readonly search: SearchSettings;
  /** Per-index maintenance state, in a small table beside the index tables. */
  readonly maintenanceState: MaintenanceStateTable;
  private readonly writeLock: IndexWriteLock;
  private readonly puts: PutQueue;
  /** Other processes write these tables too (s3+ddb://, under the lease). */
  private readonly shared: boolean;
  private readonly dropped = new Set<string>();
  /** In-memory ANN indexes beside the tables (hot-indexes.ts): only where this process is the one writer. */
  private readonly hot?: HotIndexes;

  constructor(
    private readonly options: LanceStoreOptions,
    hot?: HotIndexSettings,
  ) {
    // On s3+ddb:// several processes write (Lambdas): PutVectors also takes a lease in the commit
    // table. A local folder has one writer, the server: its in-process queue is enough.
    const lease = commitTableLease(options.uri, options.storageOptions);
    this.shared = lease !== undefined;
    this.writeLock = new IndexWriteLock(lease);
    this.puts = new PutQueue(this.writeLock);
    this.search = { ...searchSettingsFromEnv(), ...options.search };
    this.searcher = new Searcher(this.search);
    this.maintenanceState = new MaintenanceStateTable(() => this.db());
    const soleWriter = !this.shared && options.readConsistencySeconds === undefined && !/^[a-z0-9+]+:\/\//i.test(options.uri);
    if (hot && soleWriter) {
      this.hot = new HotIndexes(hot, {
        uri: options.uri,
        storageOptions: options.storageOptions,
        underLock: (storageId, work) => this.writeLock.run(storageId, work),
        table: (index) => (this.dropped.has(index.storageId) ? Promise.resolve(undefined) : this.table(index)),
      });
    }
  }

  /** What the hot indexes did (tests, status); undefined when they are off. */
  hotStats(): HotStats | undefined {
    return this.hot?.stats();
  }

  private db(): Promise<lancedb.Connection> {
    this.connection ??= connectLance(this.options.uri, {
      storageOptions: this.options.storageOptions,
      readConsistencyInterval: this.options.readConsistencySeconds,
    });
    return this.connection;
  }

  /** The index's table, or undefined while nothing has been written to it. */
  private table(index: IndexRecord): Promise<lancedb.Table | undefined> {
    let table = this.tables.get(index.storageId);
    if (!table) {
      table = this.db().then(async (db) => {
        try {
          return await db.openTable(index.storageId);
        } catch (error) {
          if (isMissingTable(error)) return undefined;
          throw error;
        }
      });
      this.tables.set(index.storageId, table);
      // Forget a miss, so a table another process creates is found on the next call.
      table.then((t) => t === undefined && this.tables.delete(index.storageId)).catch(() => this.tables.delete(index.storageId));
    }
    return table;
  }

  private async writableTable(index: IndexRecord): Promise<lancedb.Table> {
    const existing = await this.table(index);
    if (existing) return existing;
    let created = this.creating.get(index.storageId);
    if (!created) {
      // Another process may create it first; existOk then still fails when Lance reports the stored
      // schema (lance.json as LargeBinary) unlike ours, so open what the winner created.
      created = this.db().then((db) =>
        db.createEmptyTable(index.storageId, tableSchema(index.dimension), { existOk: true }).catch(async (error: unknown) => {
          try {
            return await db.openTable(index.storageId);
          } catch {
            throw error;
          }
        }),
      );
      this.creating.set(index.storageId, created);
      this.tables.set(index.storageId, created);
      const forget = () => this.creating.delete(index.storageId);
      created.then(forget, () => {
        forget();
        this.tables.delete(index.storageId);
      });
    }
    return created;
  }

  async createIndex(index?: Pick<IndexRecord, 'storageId'>): Promise<void> {
    // Tables are created by the first PutVectors; an index without vectors costs nothing.
    // storageIds are never reused, but a hot index of this id would be stale by definition.
    if (index) this.hot?.forget(index.storageId);
  }

  async dropIndex(index: Pick<IndexRecord, 'storageId'>): Promise<void> {
    // Under the write lock: a drop never runs beside a write of this index (Lance fails either, or
    // the write re-creates files in the folder being removed), and writes queued behind it see it.
    await this.writeLock.run(index.storageId, async () => {
      this.dropped.add(index.storageId);
      if (this.dropped.size > MAX_REMEMBERED_DROPS) this.dropped.delete(this.dropped.values().next().value!);
      const table = this.tables.get(index.storageId);
      this.tables.delete(index.storageId);
      this.invalidate(index.storageId);
      this.hot?.forget(index.storageId);
      (await table?.catch(() => undefined))?.close();
      const db = await this.db();
      await withDropRetries(() => db.dropTable(index.storageId));
      // A local folder Lance no longer sees as a table (a write's files without a manifest).
      if (!/^[a-z0-9+]+:\/\//i.test(this.options.uri)) rmSync(join(this.options.uri, `${index.storageId}.lance`), { recursive: true, force: true });
    });
  }

  /** The storageIds of every index table in the store (maintenance looks for orphans). */
  async tableIds(): Promise<string[]> {
    const db = await this.db();
    const names: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await db.listTables({ pageToken, limit: 1000 });
      names.push(...page.tables);
      pageToken = page.pageToken ?? undefined;
    } while (pageToken);
    if (!/^[a-z0-9+]+:\/\//i.test(this.options.uri) && existsSync(this.options.uri)) {
      for (const entry of readdirSync(this.options.uri)) if (entry.endsWith('.lance')) names.push(entry.slice(0, -'.lance'.length));
    }
    return [...new Set(names)].filter((name) => !name.startsWith('_'));
  }

  /** A write to an index this process dropped fails (the use case answers NotFoundException). */
  private checkNotDropped(index: IndexRecord): void {
    if (this.dropped.has(index.storageId)) throw new Error(`the table of index ${index.name} was dropped`);
  }

  async put(index: IndexRecord, batch: VectorBatch): Promise<void> {
    // Our schema, not table.schema(): Lance reports its storage types (lance.json as LargeBinary),
    // while writes must send the Arrow types the table was created with.
    const schema = tableSchema(index.dimension);
    const nonFilterable = new Set(index.nonFilterableMetadataKeys);
    const build = (b: VectorBatch) => batchTable(schema, index.dimension, b, nonFilterable);
    // Writes of one index run one at a time (write-lock.ts: otherwise two inserts of one new key
    // both commit); calls queued meanwhile are committed together (put-path.ts).
    await this.puts.put(index.storageId, { batch, data: build(batch) }, {
      dimension: index.dimension,
      build,
      committed: (batches) => this.hot?.recordPut(index, batches),
      failed: () => this.hot?.uncertain(index.storageId, 'put-failed'),
      table: async () => {
        this.checkNotDropped(index);
        const table = await this.writableTable(index);
        // Another process may have written since this handle last looked (an s3+ddb store read
        // with a consistency interval): the key lookup must see its rows.
        if (this.shared && this.options.readConsistencySeconds !== 0) await table.checkoutLatest();
        return table;
      },
    });
  }

  async get(index: IndexRecord, keys: string[], options: ReadOptions): Promise<StoredVector[]> {
    const table = await this.table(index);
    if (!table || keys.length === 0) return [];
    const rows = (await table.query().where(keyIn(keys)).select(columnsFor(options)).toArray()) as Row[];
    return rows.map((row) => toStored(row, options));
  }

  async delete(index: IndexRecord, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.writeLock.run(index.storageId, async () => {
      this.checkNotDropped(index);
      const table = await this.table(index);
      if (!table) return;
      try {
        await withCommitRetries(() => table.delete(keyIn(keys)));
      } catch (error) {
        this.hot?.uncertain(index.storageId, 'delete-failed');
        throw error;
      }
      this.hot?.recordDelete(index, keys);
    });
  }

  async list(index: IndexRecord, request: ListVectorsRequest): Promise<ListResult<StoredVector>> {
    const table = await this.table(index);
    if (!table) return { items: [] };
    const where = and(segmentPredicate(request.segmentCount, request.segmentIndex), keyRangePredicate(request.after, request.upper));
    // Lance scans have no cheap ORDER BY: read the range's keys (a page's worth, see segments.ts), sort, then fetch the page's rows.
    const keys = sortByUtf8(await readKeys(table, where));
    const pageKeys = keys.slice(0, request.limit);
    const last = keys.length > request.limit ? pageKeys[pageKeys.length - 1] : undefined;
    if (!request.data && !request.metadata) return { items: pageKeys.map((key) => ({ key })), last };
    const byKey = new Map((await this.get(index, pageKeys, request)).map((v) => [v.key, v]));
    return { items: pageKeys.flatMap((key) => (byKey.has(key) ? [byKey.get(key)!] : [])), last };
  }

  async keyFences(index: IndexRecord, segmentCount: number, segmentIndex: number, every: number): Promise<string[]> {
    const table = await this.table(index);
    if (!table) return [];
    return fencesOf(sortByUtf8(await readKeys(table, segmentPredicate(segmentCount, segmentIndex))), every);
  }

  async query(index: IndexRecord, request: QueryRequest): Promise<QueryHit[]> {
    if (this.hot) {
      const hits = this.hot.query(index, request.vector, request.topK, request.filter);
      if (hits && !request.metadata) return hits.map(({ key, distance }) => ({ key, distance }));
      const answered = hits && (await withHotMetadata(hits, (keys) => this.get(index, keys, { data: false, metadata: true })));
      if (answered) return answered;
    }
    const table = await this.table(index);
    if (!table) return [];
    const hits = await this.searcher.query(table, index, request);
    this.hot?.consider(index);
    return hits;
  }

  /** Where this store keeps its tables (for a maintenance worker process opening the same ones). */
  get storage(): LanceStoreOptions {
    return this.options;
  }

  /** Moves to the table's latest version after another process (the maintenance worker) committed. */
  async refresh(index: Pick<IndexRecord, 'storageId'>): Promise<void> {
    const table = await this.tables.get(index.storageId)?.catch(() => undefined);
    await table?.checkoutLatest();
    this.invalidate(index.storageId);
  }

  /** Forgets what is cached about a table's indexes and filter counts (after maintenance changed them). */
  invalidate(storageId: string): void {
    this.searcher.invalidate(storageId);
    // A maintenance commit (index, compaction) keeps the rows: the hot index stays; it may be due now.
    this.hot?.noteCommit(storageId);
  }

  // ---- Maintenance (lambdas/maintenance) and status (bin/status.ts) ----

  /** Repairs keys stored more than once (duplicate-keys.ts); returns the rows removed. */
  async removeDuplicateKeys(index: IndexRecord): Promise<number> {
    const table = await this.table(index);
    if (!table) return 0;
    return removeDuplicateKeys(table, index, {
      underLock: (work) => this.writeLock.run(index.storageId, work),
      checkNotDropped: () => this.checkNotDropped(index),
      // Rows removed outside PutVectors/DeleteVectors: a hot index (which refuses duplicates) cannot follow.
      rowsRemoved: () => this.hot?.uncertain(index.storageId, 'duplicates-removed'),
    });
  }

  /** Statistics of the index's table, or undefined while nothing has been written to it. */
  async tableStats(index: Pick<IndexRecord, 'storageId'>): Promise<TableStats | undefined> {
    const table = await this.table(index as IndexRecord);
    if (!table) return undefined;
    return readTableStats(table);
  }

  /** Builds (or rebuilds, replacing the old one atomically) the ANN index over the rows present now. */
  async createVectorIndex(index: IndexRecord, params: VectorIndexParams): Promise<void> {
    const table = await this.table(index);
    if (!table) return;
    const distanceType = index.distanceMetric === 'euclidean' ? 'l2' : 'cosine';
    const config =
      params.kind === 'HNSW_SQ'
        ? lancedb.Index.hnswSq({ distanceType, numPartitions: params.numPartitions, m: params.m, efConstruction: params.efConstruction })
        : lancedb.Index.ivfPq({ distanceType, numPartitions: params.numPartitions, numSubVectors: params.numSubVectors });
    try {
      await table.createIndex(VECTOR_COLUMN, { config, replace: true, name: VECTOR_INDEX_NAME });
    } finally {
      this.invalidate(index.storageId);
    }
  }

  /** Drops the ANN index (queries search exactly until the next build): maintenance's retrain when most rows are outside it. */
  async dropVectorIndex(index: IndexRecord): Promise<void> {
    const table = await this.table(index);
    if (!table) return;
    try {
      if ((await table.listIndices()).some((i) => i.name === VECTOR_INDEX_NAME)) await table.dropIndex(VECTOR_INDEX_NAME);
    } finally {
      this.invalidate(index.storageId);
    }
  }

  async createScalarIndex(index: IndexRecord, column: 'key' | 'meta_tokens', kind: ScalarIndexKind): Promise<void> {
    const table = await this.table(index);
    if (!table) return;
    const config = kind === 'BTREE' ? lancedb.Index.btree() : lancedb.Index.labelList();
    try {
      await table.createIndex(column, { config, replace: true, name: column === 'key' ? KEY_INDEX_NAME : TOKENS_INDEX_NAME });
    } finally {
      this.invalidate(index.storageId);
    }
  }

  /** Runs work holding the index's write lock (PutVectors wait, then commit as one group): maintenance's contended optimize. */
  withWriteLock<T>(index: Pick<IndexRecord, 'storageId'>, work: () => Promise<T>): Promise<T> {
    return this.writeLock.run(index.storageId, work);
  }

  /**
   * Lance's optimize: compacts small fragments, folds rows written since into every index (a delta
   * for the ANN index, no retraining), and deletes versions older than `pruneOlderThan`.
   */
  async optimize(index: IndexRecord, pruneOlderThan: Date): Promise<lancedb.OptimizeStats | undefined> {
    const table = await this.table(index);
    if (!table) return undefined;
    try {
      return await table.optimize({ cleanupOlderThan: pruneOlderThan });
    } finally {
      this.invalidate(index.storageId);
    }
  }

  async close(): Promise<void> {
    await this.hot?.close();
    this.maintenanceState.close();
    this.writeLock.close();
    const tables = [...this.tables.values()];
    this.tables.clear();
    for (const table of await Promise.all(tables.map((t) => t.catch(() => undefined)))) table?.close();
    (await this.connection)?.close();
    this.connection = undefined;
  }
}

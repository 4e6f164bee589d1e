// The vector store on LanceDB: one table per index, named by the index's storageId, under a storage
// root (a local folder, or s3+ddb:// in AWS). Tables are created on the first write.
import * as lancedb from '@lancedb/lancedb';
import type {
  IndexRecord,
  ListResult,
  ListVectorsRequest,
  Metadata,
  QueryHit,
  QueryRequest,
  ReadOptions,
  StoredVector,
  VectorBatch,
  VectorStorePort,
} from '../../core/ports';
import { batchTable, tableSchema } from './arrow-batch';
import { filterToSql } from './filter-sql';
import {
  KEY_INDEX_NAME,
  TOKENS_INDEX_NAME,
  VECTOR_COLUMN,
  VECTOR_INDEX_NAME,
  readTableStats,
  type IndexInfo,
  type TableStats,
  type VectorIndexParams,
} from './index-stats';
import { MaintenanceStateTable } from './maintenance-state';
import { needsExactRetry, planSearch, searchSettingsFromEnv, type SearchPlan, type SearchSettings } from './search-plan';
import { fencesOf, keyRangePredicate, readKeys, segmentPredicate, sortByUtf8 } from './segments';
import { keyIn } from './sql';

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

interface AnnCache {
  ann?: IndexInfo;
  checkedAt: number;
}

const MAX_CACHED_ESTIMATES = 1_000;
const COMMIT_RETRIES = 5;

function isCommitConflict(error: unknown): boolean {
  // "Too many concurrent writers": Lance gave up its own commit retries under contention.
  return /conflict|preempted|retryable|too many concurrent writers/i.test(String(error));
}

function isMissingTable(error: unknown): boolean {
  return /not found|does not exist/i.test(String(error));
}

type Row = Record<string, unknown>;

function and(...predicates: (string | undefined)[]): string | undefined {
  const present = predicates.filter((p): p is string => p !== undefined);
  return present.length ? present.map((p) => `(${p})`).join(' AND ') : undefined;
}

function vectorOf(value: unknown): Float32Array {
  // Arrow gives a Vector for a FixedSizeList cell; toArray() is its Float32Array.
  const array = (value as { toArray(): Float32Array }).toArray();
  return array instanceof Float32Array ? array : Float32Array.from(array);
}

function toStored(row: Row, options: ReadOptions): StoredVector {
  const stored: StoredVector = { key: row.key as string };
  if (options.data) stored.data = vectorOf(row.vector);
  if (options.metadata && row.metadata != null) stored.metadata = JSON.parse(row.metadata as string) as Metadata;
  return stored;
}

function columnsFor(options: ReadOptions): string[] {
  return ['key', ...(options.data ? ['vector'] : []), ...(options.metadata ? ['metadata'] : [])];
}

export class LanceVectorStore implements VectorStorePort {
  private connection?: Promise<lancedb.Connection>;
  private readonly tables = new Map<string, Promise<lancedb.Table | undefined>>();
  /** Table creation in flight, so concurrent first writes create the table once. */
  private readonly creating = new Map<string, Promise<lancedb.Table>>();
  private readonly annCache = new Map<string, AnnCache>();
  /** Filter match counts by storageId + SQL: planning estimates, reused for estimateTtlMs. */
  private readonly estimates = new Map<string, { count: number; at: number }>();
  readonly search: SearchSettings;
  /** Per-index maintenance state, in a small table beside the index tables. */
  readonly maintenanceState: MaintenanceStateTable;

  constructor(private readonly options: LanceStoreOptions) {
    this.search = { ...searchSettingsFromEnv(), ...options.search };
    this.maintenanceState = new MaintenanceStateTable(() => this.db());
  }

  private db(): Promise<lancedb.Connection> {
    this.connection ??= lancedb.connect(this.options.uri, {
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

  async createIndex(): Promise<void> {
    // Tables are created by the first PutVectors; an index without vectors costs nothing.
  }

  async dropIndex(index: IndexRecord): Promise<void> {
    this.tables.delete(index.storageId);
    this.invalidate(index.storageId);
    const db = await this.db();
    try {
      await db.dropTable(index.storageId);
    } catch (error) {
      if (!isMissingTable(error)) throw error;
    }
  }

  async put(index: IndexRecord, batch: VectorBatch): Promise<void> {
    const table = await this.writableTable(index);
    // Our schema, not table.schema(): Lance reports its storage types (lance.json as LargeBinary),
    // while writes must send the Arrow types the table was created with.
    const data = batchTable(tableSchema(index.dimension), index.dimension, batch, new Set(index.nonFilterableMetadataKeys));
    // An upsert is idempotent, so a commit that lost a race with a concurrent one (e.g. maintenance
    // compacting the same fragments) is simply tried again.
    for (let attempt = 1; ; attempt++) {
      try {
        await table.mergeInsert('key').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data);
        return;
      } catch (error) {
        if (attempt >= COMMIT_RETRIES || !isCommitConflict(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10 * attempt + Math.random() * 20));
      }
    }
  }

  async get(index: IndexRecord, keys: string[], options: ReadOptions): Promise<StoredVector[]> {
    const table = await this.table(index);
    if (!table || keys.length === 0) return [];
    const rows = (await table.query().where(keyIn(keys)).select(columnsFor(options)).toArray()) as Row[];
    return rows.map((row) => toStored(row, options));
  }

  async delete(index: IndexRecord, keys: string[]): Promise<void> {
    const table = await this.table(index);
    if (!table || keys.length === 0) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await table.delete(keyIn(keys));
        return;
      } catch (error) {
        if (attempt >= COMMIT_RETRIES || !isCommitConflict(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10 * attempt + Math.random() * 20));
      }
    }
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
    const table = await this.table(index);
    if (!table) return [];
    const where = request.filter ? filterToSql(request.filter) : undefined;
    const ann = await this.annIndex(index.storageId, table);
    const estimatedMatches = where && ann ? await this.estimateMatches(index.storageId, table, where) : undefined;
    const plan = planSearch({ topK: request.topK, hasAnnIndex: ann !== undefined, filtered: where !== undefined, estimatedMatches }, this.search);
    let rows = await this.runSearch(table, index, request, where, plan, ann);
    if (plan.kind === 'ann' && rows.length < request.topK && !plan.fastSearch) {
      // Fewer hits than asked: complete only if no more rows match. Otherwise search exactly.
      const matching = await table.countRows(where);
      if (where) this.remember(index.storageId, where, matching);
      if (needsExactRetry(plan, rows.length, request.topK, matching)) {
        rows = await this.runSearch(table, index, request, where, { kind: 'exact', reason: 'retry' }, ann);
      }
    }
    const euclidean = index.distanceMetric === 'euclidean';
    return rows.map((row) => ({
      key: row.key as string,
      // Lance's l2 is the squared distance; S3 Vectors reports the euclidean distance itself.
      distance: euclidean ? Math.sqrt(row._distance as number) : (row._distance as number),
      ...(request.metadata && row.metadata != null ? { metadata: JSON.parse(row.metadata as string) as Metadata } : {}),
    }));
  }

  private async runSearch(
    table: lancedb.Table,
    index: IndexRecord,
    request: QueryRequest,
    where: string | undefined,
    plan: SearchPlan,
    ann: IndexInfo | undefined,
  ): Promise<Row[]> {
    let search = table
      .vectorSearch(request.vector)
      .column(VECTOR_COLUMN)
      .distanceType(index.distanceMetric === 'euclidean' ? 'l2' : 'cosine')
      .limit(request.topK)
      .select(request.metadata ? ['key', 'metadata', '_distance'] : ['key', '_distance']);
    if (where) search = search.where(where);
    if (plan.kind === 'exact') {
      if (ann) search = search.bypassVectorIndex();
    } else {
      const ivfOnly = ann !== undefined && !/hnsw/i.test(ann.type);
      search = search.ef(plan.ef);
      // IVF_PQ's codes are coarse: it needs more partitions probed and a deeper re-rank.
      if (ivfOnly) search = search.minimumNprobes(32);
      const refine = ivfOnly ? Math.max(plan.refineFactor, 10) : plan.refineFactor;
      if (refine > 0) search = search.refineFactor(refine);
      if (plan.fastSearch) search = search.fastSearch();
    }
    return (await search.toArray()) as Row[];
  }

  /** The table's ANN index, from a cache refreshed every indexInfoTtlMs and after maintenance. */
  private async annIndex(storageId: string, table: lancedb.Table): Promise<IndexInfo | undefined> {
    const now = Date.now();
    const cached = this.annCache.get(storageId);
    if (cached && now - cached.checkedAt < this.search.indexInfoTtlMs) return cached.ann;
    const configs = await table.listIndices();
    const config = configs.find((c) => c.columns.includes(VECTOR_COLUMN));
    const ann = config ? { name: config.name, type: config.indexType, columns: config.columns, indexedRows: 0, unindexedRows: 0, segments: 1 } : undefined;
    this.annCache.set(storageId, { ann, checkedAt: now });
    return ann;
  }

  private async estimateMatches(storageId: string, table: lancedb.Table, where: string): Promise<number> {
    const cached = this.estimates.get(`${storageId}\n${where}`);
    if (cached && Date.now() - cached.at < this.search.estimateTtlMs) return cached.count;
    const count = await table.countRows(where);
    this.remember(storageId, where, count);
    return count;
  }

  private remember(storageId: string, where: string, count: number): void {
    const id = `${storageId}\n${where}`;
    this.estimates.delete(id);
    if (this.estimates.size >= MAX_CACHED_ESTIMATES) this.estimates.delete(this.estimates.keys().next().value!);
    this.estimates.set(id, { count, at: Date.now() });
  }

  /** Forgets what is cached about a table's indexes and filter counts (after maintenance changed them). */
  invalidate(storageId: string): void {
    this.annCache.delete(storageId);
    const prefix = `${storageId}\n`;
    for (const id of [...this.estimates.keys()]) if (id.startsWith(prefix)) this.estimates.delete(id);
  }

  // ---- Maintenance (lambdas/maintenance) and status (bin/status.ts) ----

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
    this.maintenanceState.close();
    const tables = [...this.tables.values()];
    this.tables.clear();
    for (const table of await Promise.all(tables.map((t) => t.catch(() => undefined)))) table?.close();
    (await this.connection)?.close();
    this.connection = undefined;
  }
}

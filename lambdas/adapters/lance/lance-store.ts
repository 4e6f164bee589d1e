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
import { segmentPredicate } from './segments';
import { keyIn, sqlString } from './sql';

export interface LanceStoreOptions {
  /** Folder path or URI (s3://, s3+ddb://) holding one Lance table per index. */
  uri: string;
  storageOptions?: Record<string, string>;
  /**
   * Seconds between checks for other processes' commits; 0 checks on every read (Lambda, where
   * several processes write one table), undefined never does (the local server is the only writer).
   */
  readConsistencySeconds?: number;
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

  constructor(private readonly options: LanceStoreOptions) {}

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
          if (/not found|does not exist/i.test(String(error))) return undefined;
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
    const db = await this.db();
    const created = db.createEmptyTable(index.storageId, tableSchema(index.dimension), { existOk: true });
    this.tables.set(index.storageId, created);
    return created;
  }

  async createIndex(): Promise<void> {
    // Tables are created by the first PutVectors; an index without vectors costs nothing.
  }

  async dropIndex(index: IndexRecord): Promise<void> {
    this.tables.delete(index.storageId);
    const db = await this.db();
    try {
      await db.dropTable(index.storageId);
    } catch (error) {
      if (!/not found|does not exist/i.test(String(error))) throw error;
    }
  }

  async put(index: IndexRecord, batch: VectorBatch): Promise<void> {
    const table = await this.writableTable(index);
    // Our schema, not table.schema(): Lance reports its storage types (lance.json as LargeBinary),
    // while writes must send the Arrow types the table was created with.
    const data = batchTable(tableSchema(index.dimension), index.dimension, batch, new Set(index.nonFilterableMetadataKeys));
    await table.mergeInsert('key').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data);
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
    await table.delete(keyIn(keys));
  }

  async list(index: IndexRecord, request: ListVectorsRequest): Promise<ListResult<StoredVector>> {
    const table = await this.table(index);
    if (!table) return { items: [] };
    const where = and(
      segmentPredicate(request.segmentCount, request.segmentIndex),
      request.after === undefined ? undefined : `key > ${sqlString(request.after)}`,
    );
    // Lance scans have no ORDER BY: read the keys, sort, then fetch the page's rows.
    let query = table.query().select(['key']);
    if (where) query = query.where(where);
    const keys = ((await query.toArray()) as Row[]).map((row) => row.key as string);
    keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const pageKeys = keys.slice(0, request.limit);
    const last = keys.length > request.limit ? pageKeys[pageKeys.length - 1] : undefined;
    if (!request.data && !request.metadata) return { items: pageKeys.map((key) => ({ key })), last };
    const byKey = new Map((await this.get(index, pageKeys, request)).map((v) => [v.key, v]));
    return { items: pageKeys.flatMap((key) => (byKey.has(key) ? [byKey.get(key)!] : [])), last };
  }

  async query(index: IndexRecord, request: QueryRequest): Promise<QueryHit[]> {
    const table = await this.table(index);
    if (!table) return [];
    const euclidean = index.distanceMetric === 'euclidean';
    let search = table
      .vectorSearch(request.vector)
      .distanceType(euclidean ? 'l2' : 'cosine')
      .limit(request.topK)
      .select(request.metadata ? ['key', 'metadata', '_distance'] : ['key', '_distance']);
    if (request.filter) search = search.where(filterToSql(request.filter));
    const rows = (await search.toArray()) as Row[];
    return rows.map((row) => ({
      key: row.key as string,
      // Lance's l2 is the squared distance; S3 Vectors reports the euclidean distance itself.
      distance: euclidean ? Math.sqrt(row._distance as number) : (row._distance as number),
      ...(request.metadata && row.metadata != null ? { metadata: JSON.parse(row.metadata as string) as Metadata } : {}),
    }));
  }

  async close(): Promise<void> {
    const tables = [...this.tables.values()];
    this.tables.clear();
    for (const table of await Promise.all(tables.map((t) => t.catch(() => undefined)))) table?.close();
    (await this.connection)?.close();
    this.connection = undefined;
  }
}

// QueryVectors on one Lance table: plans the search (search-plan.ts) from cached facts about the
// table (its ANN index, filter match counts), runs it, and reruns it exactly when the ANN search
// came back short.
import type * as lancedb from '@lancedb/lancedb';
import type { IndexRecord, Metadata, QueryHit, QueryRequest } from '../../core/ports';
import { filterToSql } from './filter-sql';
import { VECTOR_COLUMN, type IndexInfo } from './index-stats';
import type { Row } from './rows';
import { needsExactRetry, planSearch, type SearchPlan, type SearchSettings } from './search-plan';

interface AnnCache {
  ann?: IndexInfo;
  checkedAt: number;
}

const MAX_CACHED_ESTIMATES = 1_000;

export class Searcher {
  private readonly annCache = new Map<string, AnnCache>();
  /** Filter match counts by storageId + SQL: planning estimates, reused for estimateTtlMs. */
  private readonly estimates = new Map<string, { count: number; at: number }>();

  constructor(private readonly search: SearchSettings) {}

  async query(table: lancedb.Table, index: IndexRecord, request: QueryRequest): Promise<QueryHit[]> {
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
}

// The same queries in this process against the index's Lance table, opened read-only from the data
// directory: the floor the API's added latency is measured against. Filters go through the
// project's own filter compiler, so raw LanceDB evaluates exactly the predicate the server does.
import * as lancedb from '@lancedb/lancedb';
import { join } from 'node:path';
import { AWS_LIMITS } from '../lambdas/core/config';
import { parseFilter } from '../lambdas/core/filter/parse';
import { filterToSql } from '../lambdas/adapters/lance/filter-sql';
import { needsExactRetry, planSearch, searchSettingsFromEnv, type SearchPlan } from '../lambdas/adapters/lance/search-plan';
import type { Metric } from './datasets';
import type { TimedQueries } from './client';

export function filterSql(doc: Record<string, unknown>): string {
  return filterToSql(parseFilter(doc, { nonFilterableKeys: new Set(), indexMode: 'ENHANCED', limits: AWS_LIMITS }));
}

/**
 * Queries are planned as the server's store plans them (lambdas/adapters/lance/search-plan.ts, same
 * S3V_SEARCH_* settings): exact search without an ANN index or when a filter matches few rows,
 * otherwise HNSW with the same ef and refine factor, and an exact retry when an ANN answer comes
 * back short. So API p50 − raw p50 is the cost of the API around the same LanceDB work.
 */
export class RawLance {
  private readonly settings = searchSettingsFromEnv();
  private readonly counts = new Map<string, number>();

  private constructor(
    private readonly db: lancedb.Connection,
    readonly table: lancedb.Table,
    private readonly metric: Metric,
    /** The vector index's type, when there is one. */
    readonly annType: string | undefined,
  ) {}

  static async open(dataDir: string, storageId: string, metric: Metric): Promise<RawLance> {
    const db = await lancedb.connect(join(dataDir, 'vectors'));
    const table = await db.openTable(storageId);
    const ann = (await table.listIndices()).find((i) => i.columns.includes('vector'));
    return new RawLance(db, table, metric, ann?.indexType);
  }

  private async count(where: string): Promise<number> {
    let n = this.counts.get(where);
    if (n === undefined) {
      n = await this.table.countRows(where);
      this.counts.set(where, n);
    }
    return n;
  }

  private async search(vector: Float32Array, topK: number, where: string | undefined, plan: SearchPlan): Promise<string[]> {
    let search = this.table
      .vectorSearch(vector)
      .column('vector')
      .distanceType(this.metric === 'euclidean' ? 'l2' : 'cosine')
      .limit(topK)
      .select(['key', '_distance']);
    if (where) search = search.where(where);
    if (plan.kind === 'exact') {
      if (this.annType) search = search.bypassVectorIndex();
    } else {
      const ivfOnly = !/hnsw/i.test(this.annType ?? '');
      search = search.ef(plan.ef);
      if (ivfOnly) search = search.minimumNprobes(32);
      const refine = ivfOnly ? Math.max(plan.refineFactor, 10) : plan.refineFactor;
      if (refine > 0) search = search.refineFactor(refine);
      if (plan.fastSearch) search = search.fastSearch();
    }
    const rows = (await search.toArray()) as { key: string }[];
    return rows.map((row) => row.key);
  }

  async query(vector: Float32Array, topK: number, where?: string): Promise<string[]> {
    const estimatedMatches = where && this.annType ? await this.count(where) : undefined;
    const plan = planSearch({ topK, hasAnnIndex: this.annType !== undefined, filtered: where !== undefined, estimatedMatches }, this.settings);
    let keys = await this.search(vector, topK, where, plan);
    if (plan.kind === 'ann' && keys.length < topK && !plan.fastSearch) {
      const matching = where ? await this.count(where) : await this.table.countRows();
      if (needsExactRetry(plan, keys.length, topK, matching)) keys = await this.search(vector, topK, where, { kind: 'exact', reason: 'retry' });
    }
    return keys;
  }

  async timed(
    queryVectors: Float32Array[],
    topK: number,
    filter: ((qi: number) => Record<string, unknown>) | undefined,
    options: { warmup: number; onQuery?: () => void },
  ): Promise<TimedQueries> {
    const sql = queryVectors.map((_, qi) => (filter ? filterSql(filter(qi)) : undefined));
    for (let w = 0; w < Math.min(options.warmup, queryVectors.length); w++) await this.query(queryVectors[w], topK, sql[w]);
    const latenciesMs: number[] = [];
    const keys: string[][] = [];
    for (let qi = 0; qi < queryVectors.length; qi++) {
      const t0 = performance.now();
      keys.push(await this.query(queryVectors[qi], topK, sql[qi]));
      latenciesMs.push(performance.now() - t0);
      options.onQuery?.();
    }
    return { latenciesMs, keys };
  }

  async describe(): Promise<{ rows: number; indices: { name: string; indexType: string; columns: string[] }[]; version: number }> {
    return {
      rows: await this.table.countRows(),
      indices: (await this.table.listIndices()).map((i) => ({ name: i.name, indexType: i.indexType, columns: i.columns })),
      version: await this.table.version(),
    };
  }

  close(): void {
    this.table.close();
    this.db.close();
  }
}

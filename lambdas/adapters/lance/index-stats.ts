// What maintenance and `npm run status` read about one index's Lance table: cheap statistics from
// the manifest (rows, fragments, bytes) and from each index (indexed / unindexed rows).
import type * as lancedb from '@lancedb/lancedb';

export const VECTOR_COLUMN = 'vector';
export const KEY_COLUMN = 'key';
export const VECTOR_INDEX_NAME = 'vector_idx';
export const KEY_INDEX_NAME = 'key_idx';
export const TOKENS_INDEX_NAME = 'meta_tokens_idx';

export interface IndexInfo {
  name: string;
  /** Lance's type name, e.g. IvfHnswSq, BTree, LabelList. */
  type: string;
  columns: string[];
  indexedRows: number;
  unindexedRows: number;
  /** Delta segments: each optimize that folds new rows into a vector index may add one. */
  segments: number;
}

export interface TableStats {
  rows: number;
  fragments: number;
  /** Fragments Lance considers small enough to compact. */
  smallFragments: number;
  totalBytes: number;
  version: number;
  indices: IndexInfo[];
}

export type VectorIndexKind = 'HNSW_SQ' | 'IVF_PQ';

export interface VectorIndexParams {
  kind: VectorIndexKind;
  numPartitions: number;
  /** HNSW: neighbours per node (m) and build candidate list (efConstruction). */
  m?: number;
  efConstruction?: number;
  /** IVF_PQ: sub-vectors. */
  numSubVectors?: number;
}

export function isVectorIndex(info: Pick<IndexInfo, 'columns'>): boolean {
  return info.columns.includes(VECTOR_COLUMN);
}

export function vectorIndexOf(stats: Pick<TableStats, 'indices'>): IndexInfo | undefined {
  return stats.indices.find(isVectorIndex);
}

export async function readTableStats(table: lancedb.Table): Promise<TableStats> {
  const [stats, version, configs] = await Promise.all([table.stats(), table.version(), table.listIndices()]);
  const indices: IndexInfo[] = [];
  for (const config of configs) {
    const detail = config as unknown as { numIndexedRows?: number; numUnindexedRows?: number; numSegments?: number };
    let indexedRows = detail.numIndexedRows;
    let unindexedRows = detail.numUnindexedRows;
    let segments = detail.numSegments;
    if (indexedRows === undefined || unindexedRows === undefined) {
      const s = await table.indexStats(config.name);
      indexedRows = s?.numIndexedRows ?? 0;
      unindexedRows = s?.numUnindexedRows ?? 0;
      segments = s?.numIndices ?? segments;
    }
    indices.push({
      name: config.name,
      type: config.indexType,
      columns: config.columns,
      indexedRows,
      unindexedRows,
      segments: segments ?? 1,
    });
  }
  return {
    rows: stats.numRows,
    fragments: stats.fragmentStats.numFragments,
    smallFragments: stats.fragmentStats.numSmallFragments,
    totalBytes: stats.totalBytes,
    version,
    indices,
  };
}

// Maintenance thresholds: defaults chosen by measurement (see the issue 7 notes), each overridable by
// an S3V_MAINT_* environment variable.
import type { VectorIndexKind } from '../adapters/lance/index-stats';

export interface MaintenanceConfig {
  /** Seconds between passes of the local server's maintenance timer. */
  intervalSeconds: number;
  /**
   * Build the ANN index once a flat search would scan this many floats (rows × dimension): below,
   * exact search is fast and has perfect recall. 5M floats ≈ 5 ms of flat search on 2 cores
   * (Fashion-MNIST: 6,400 rows of 784-d; 39,000 rows of 128-d).
   */
  annMinFloats: number;
  /** Overrides annMinFloats with a fixed row count when set. */
  annMinRows?: number;
  /** Retrain the ANN index when the table has grown to this multiple of the rows it was trained on. */
  retrainGrowth: number;
  /**
   * Retrain (one build over every row, replacing the old index) rather than fold once the rows
   * outside the ANN index reach this multiple of the rows in it: folding them costs a build of a
   * delta that size anyway, over the old index's partitions and quantizer.
   */
  retrainUnindexedRatio: number;
  /** Retrain when folding in new rows has split the ANN index into this many segments. */
  maxIndexSegments: number;
  /** Fold new rows into the indexes (Lance optimize) once this many rows are unindexed... */
  foldMinRows: number;
  /** ...or once unindexed rows have waited this long. */
  foldMaxAgeSeconds: number;
  /** Compact once this many small fragments exist (each PutVectors commit adds one). */
  compactMinFragments: number;
  /**
   * After a compaction lost its commit to concurrent writes, the next try waits the interval, then
   * twice as long after each further loss, up to this; new rows are folded in meanwhile without it.
   */
  compactBackoffMaxSeconds: number;
  /**
   * An optimize that lost its commit to concurrent writes runs again holding the index's write lock
   * (PutVectors queue meanwhile and commit as one group after it) when it took at most this long;
   * the lock is let go after twice this, whatever the optimize's state. 0: never hold writes.
   */
  lockedOptimizeMaxSeconds: number;
  /**
   * At most this share of the time in write-locked optimizes: after one that held writes for t, the
   * next compaction waits t × (1 / share − 1), new rows folded in without it meanwhile.
   */
  lockedOptimizeMaxShare: number;
  /** BTREE index on `key` (GetVectors, DeleteVectors, the upsert's key match) from this many rows. */
  keyIndexMinRows: number;
  /** Table versions older than this are deleted (readers of older versions are long gone). */
  keepVersionsSeconds: number;
  vectorIndex: VectorIndexKind;
  hnswM: number;
  hnswEfConstruction: number;
  /** One HNSW graph (IVF partition) per this many rows. */
  partitionRows: number;
  /** Build speed assumed for the time budget (floats indexed per second; measured ≈ 2M on 2 cores). */
  buildFloatsPerSecond: number;
}

export const DEFAULT_MAINTENANCE_CONFIG: MaintenanceConfig = {
  intervalSeconds: 15,
  annMinFloats: 5_000_000,
  retrainGrowth: 2,
  retrainUnindexedRatio: 1,
  maxIndexSegments: 8,
  foldMinRows: 5_000,
  foldMaxAgeSeconds: 30,
  compactMinFragments: 32,
  compactBackoffMaxSeconds: 600,
  lockedOptimizeMaxSeconds: 5,
  lockedOptimizeMaxShare: 0.1,
  keyIndexMinRows: 10_000,
  keepVersionsSeconds: 300,
  vectorIndex: 'HNSW_SQ',
  hnswM: 20,
  hnswEfConstruction: 300,
  partitionRows: 1_000_000,
  buildFloatsPerSecond: 2_000_000,
};

export const MAINTENANCE_ENV: Record<Exclude<keyof MaintenanceConfig, 'vectorIndex'>, string> = {
  intervalSeconds: 'S3V_MAINT_INTERVAL_SECONDS',
  annMinFloats: 'S3V_MAINT_ANN_MIN_FLOATS',
  annMinRows: 'S3V_MAINT_ANN_MIN_ROWS',
  retrainGrowth: 'S3V_MAINT_RETRAIN_GROWTH',
  retrainUnindexedRatio: 'S3V_MAINT_RETRAIN_UNINDEXED_RATIO',
  maxIndexSegments: 'S3V_MAINT_MAX_INDEX_SEGMENTS',
  foldMinRows: 'S3V_MAINT_FOLD_MIN_ROWS',
  foldMaxAgeSeconds: 'S3V_MAINT_FOLD_MAX_AGE_SECONDS',
  compactMinFragments: 'S3V_MAINT_COMPACT_MIN_FRAGMENTS',
  compactBackoffMaxSeconds: 'S3V_MAINT_COMPACT_BACKOFF_MAX_SECONDS',
  lockedOptimizeMaxSeconds: 'S3V_MAINT_LOCKED_OPTIMIZE_MAX_SECONDS',
  lockedOptimizeMaxShare: 'S3V_MAINT_LOCKED_OPTIMIZE_MAX_SHARE',
  keyIndexMinRows: 'S3V_MAINT_KEY_INDEX_MIN_ROWS',
  keepVersionsSeconds: 'S3V_MAINT_KEEP_VERSIONS_SECONDS',
  hnswM: 'S3V_MAINT_HNSW_M',
  hnswEfConstruction: 'S3V_MAINT_HNSW_EF_CONSTRUCTION',
  partitionRows: 'S3V_MAINT_PARTITION_ROWS',
  buildFloatsPerSecond: 'S3V_MAINT_BUILD_FLOATS_PER_SECOND',
};

export function maintenanceConfigFromEnv(env: NodeJS.ProcessEnv = process.env): MaintenanceConfig {
  const config: MaintenanceConfig = { ...DEFAULT_MAINTENANCE_CONFIG };
  for (const [field, name] of Object.entries(MAINTENANCE_ENV) as [keyof typeof MAINTENANCE_ENV, string][]) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got '${raw}'`);
    (config as unknown as Record<string, number>)[field] = value;
  }
  const kind = env.S3V_MAINT_VECTOR_INDEX;
  if (kind !== undefined && kind !== '') {
    if (kind !== 'HNSW_SQ' && kind !== 'IVF_PQ') throw new Error(`S3V_MAINT_VECTOR_INDEX must be HNSW_SQ or IVF_PQ, got '${kind}'`);
    config.vectorIndex = kind;
  }
  return config;
}

/** Rows from which an index of this dimension gets an ANN index. */
export function annMinRows(config: MaintenanceConfig, dimension: number): number {
  return config.annMinRows ?? Math.max(256, Math.ceil(config.annMinFloats / dimension));
}

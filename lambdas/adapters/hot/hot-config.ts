// Settings of the hot in-memory ANN index (hot-indexes.ts): the local server only, where this
// process is every table's one writer. S3V_HOT_INDEX_MB=0 turns it off.
import { availableParallelism } from 'node:os';

export interface HotIndexSettings {
  /** Memory for all hot indexes together (vectors as f32 + graph + keys); a table that does not fit stays on LanceDB. */
  budgetMb: number;
  /** Tables with fewer rows are left to LanceDB (its flat search is fast there). */
  minRows: number;
  /** Writes recorded since the snapshot (keys put or deleted) past which the hot index is dropped and rebuilt. */
  deltaMax: number;
  /** A table is snapshotted once it saw no commit for this long (maintenance settled, ingest over). */
  quietMs: number;
  /** HNSW neighbours per node and candidate lists (build, search). */
  m: number;
  efConstruction: number;
  ef: number;
  /** Threads the background build uses. */
  buildThreads: number;
  /** Hot answers to topK above this go to LanceDB (a deep HNSW search is no faster). */
  maxTopK: number;
}

export const DEFAULT_HOT_SETTINGS: HotIndexSettings = {
  budgetMb: 1024,
  minRows: 1_000,
  deltaMax: 2_000,
  quietMs: 10_000,
  m: 16,
  efConstruction: 128,
  ef: 64,
  buildThreads: Math.max(1, availableParallelism() - 1),
  maxTopK: 100,
};

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}, got '${raw}'`);
  return value;
}

/** The settings, or undefined when S3V_HOT_INDEX_MB is 0. */
export function hotSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): HotIndexSettings | undefined {
  const d = DEFAULT_HOT_SETTINGS;
  const settings: HotIndexSettings = {
    budgetMb: int(env, 'S3V_HOT_INDEX_MB', d.budgetMb),
    minRows: int(env, 'S3V_HOT_MIN_ROWS', d.minRows),
    deltaMax: int(env, 'S3V_HOT_DELTA_MAX', d.deltaMax),
    quietMs: int(env, 'S3V_HOT_QUIET_MS', d.quietMs),
    m: int(env, 'S3V_HOT_M', d.m, 2),
    efConstruction: int(env, 'S3V_HOT_EF_CONSTRUCTION', d.efConstruction, 1),
    ef: int(env, 'S3V_HOT_EF', d.ef, 1),
    buildThreads: int(env, 'S3V_HOT_BUILD_THREADS', d.buildThreads, 1),
    maxTopK: int(env, 'S3V_HOT_MAX_TOPK', d.maxTopK, 1),
  };
  return settings.budgetMb > 0 ? settings : undefined;
}

/** Bytes a hot index of `rows` × `dimension` takes: f32 vectors, the HNSW graph (2M links on the base layer), keys. */
export function estimatedBytes(rows: number, dimension: number, m: number, keyBytes = 24 * rows): number {
  return rows * (dimension * 4 + 2 * m * 4 + 32) + keyBytes;
}

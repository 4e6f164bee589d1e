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
  /** How the HNSW index stores vectors: 'f16' halves its memory (candidates re-ranked with exact f32 read from disk). */
  quantization: 'f32' | 'f16';
  /** Filtered queries matching at most this many snapshot rows: exact search over those rows. */
  filterExactMax: number;
  /** Filtered queries matching more: HNSW candidates asked per expected match. */
  filterOverfetch: number;
  /** Deepest HNSW search a filtered query tries before LanceDB answers it. */
  filterMaxWant: number;
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
  // f16 halves the index's memory (recall@10 0.9973 vs 0.9977 on Fashion-MNIST, distances exact
  // after the f32 re-rank) but keeps 11 bits: data whose offset is large against its spread
  // (readings, coordinates: 1000 + 0.4·U) collapses and loses its neighbours. So it is opt-in.
  quantization: 'f32',
  filterExactMax: 2_000,
  filterOverfetch: 2,
  // 0: a filter matching more than filterExactMax rows goes to LanceDB at once. The over-fetched
  // HNSW path (> 0: the deepest search tried) cost more than it saved in the user-flow bench
  // (Fashion-MNIST 10% filter, a class the vectors cluster by: API/raw p50 1.80× at 800, 1.47× at
  // 200, 1.28× straight to LanceDB), as most of those queries fall back after searching.
  filterMaxWant: 0,
};

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}, got '${raw}'`);
  return value;
}

function quantization(raw: string | undefined, fallback: HotIndexSettings['quantization']): HotIndexSettings['quantization'] {
  if (raw === undefined || raw === '') return fallback;
  if (raw !== 'f32' && raw !== 'f16') throw new Error(`S3V_HOT_QUANTIZATION must be f32 or f16, got '${raw}'`);
  return raw;
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
    quantization: quantization(env.S3V_HOT_QUANTIZATION, d.quantization),
    filterExactMax: int(env, 'S3V_HOT_FILTER_EXACT_MAX', d.filterExactMax),
    filterOverfetch: int(env, 'S3V_HOT_FILTER_OVERFETCH', d.filterOverfetch, 1),
    filterMaxWant: int(env, 'S3V_HOT_FILTER_MAX_WANT', d.filterMaxWant, 0),
  };
  return settings.budgetMb > 0 ? settings : undefined;
}

/** Bytes a hot index of `rows` × `dimension` takes: vectors (4 or 2 bytes a number), the HNSW graph (2M links on the base layer), keys, filter postings (~16 bytes a row). */
export function estimatedBytes(rows: number, dimension: number, m: number, quantization: HotIndexSettings['quantization'] = 'f32', keyBytes = 24 * rows): number {
  return rows * (dimension * (quantization === 'f16' ? 2 : 4) + 2 * m * 4 + 32 + 16) + keyBytes;
}

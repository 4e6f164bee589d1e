// Pure: from one index's cheap statistics and its maintenance state, what is due now, and when the
// next thing falls due if nothing more is written.
import {
  KEY_COLUMN,
  vectorIndexOf,
  type IndexInfo,
  type TableStats,
  type VectorIndexParams,
} from '../adapters/lance/index-stats';
import type { MaintenanceState } from '../adapters/lance/maintenance-state';
import { TOKENS_COLUMN } from '../adapters/lance/metadata-columns';
import { annMinRows, type MaintenanceConfig } from './config';

export type Action =
  /**
   * dropFirst (a retrain when most rows are outside the old index): drop it, compact, then build.
   * Compacting with the old index in place would remap it and fold every new row into it (LanceDB's
   * optimize always folds), i.e. build it once more just before it is replaced.
   */
  | { kind: 'vector-index'; retrain: boolean; params: VectorIndexParams; reason: string; dropFirst?: boolean }
  | { kind: 'tokens-index'; reason: string }
  | { kind: 'key-index'; reason: string }
  | { kind: 'optimize'; reason: string }
  /**
   * New rows into the indexes without compaction (which concurrent upserts and deletes preempt):
   * the lagging indexes rebuilt over the rows present, each a CreateIndex commit that concurrent
   * writes do not conflict with. LanceDB's JS optimize() has no fold-only option.
   */
  | { kind: 'fold'; columns: FoldColumn[]; vector: boolean; params: VectorIndexParams; reason: string };

/** Scalar index columns a fold rebuilds. */
export type FoldColumn = typeof KEY_COLUMN | typeof TOKENS_COLUMN;

export interface Decision {
  /** In the order they should run: builds first, then optimize (folds in rows written meanwhile). */
  actions: Action[];
  /** Epoch ms when something falls due by time alone; undefined: only further writes make it due. */
  nextDueAt?: number;
}

export interface DecideOptions {
  /** Do everything that is due regardless of age thresholds (fold in every unindexed row). */
  catchUp?: boolean;
  /** Compaction already ran in this maintenance run: what is left is not worth another rewrite. */
  compacted?: boolean;
}

/**
 * Compaction lost to concurrent writes lately: wait before trying again (catchUp tries anyway).
 * Never longer than compactBackoffMaxSeconds from now: a retry time recorded by a process whose
 * clock ran ahead (another host, a clock stepped back since) must not hold compaction off for days.
 */
export function compactionBackingOff(state: MaintenanceState | undefined, now: number, config: MaintenanceConfig, options: DecideOptions = {}): boolean {
  const retryAt = state?.compactRetryAt ?? 0;
  return !options.catchUp && retryAt > now && retryAt - now <= config.compactBackoffMaxSeconds * 1000;
}

/** When the next compaction may be tried after `failures` lost in a row. */
export function compactRetryAt(failures: number, config: MaintenanceConfig, now: number): number {
  const seconds = Math.min(config.compactBackoffMaxSeconds, config.intervalSeconds * 2 ** Math.max(0, failures - 1));
  return now + seconds * 1000;
}

/**
 * After an optimize that held the write lock for lockedMs: the next compaction waits so that writes
 * are held at most lockedOptimizeMaxShare of the time (undefined: no wait).
 */
export function lockedRetryAt(lockedMs: number, config: MaintenanceConfig, now: number): number | undefined {
  const share = config.lockedOptimizeMaxShare;
  if (!(share > 0 && share < 1)) return undefined;
  const waitMs = Math.min(config.compactBackoffMaxSeconds * 1000, lockedMs * (1 / share - 1));
  return waitMs > 0 ? now + waitMs : undefined;
}

/**
 * The fold without compaction, if an index lags: scalar indexes whenever they miss rows (cheap to
 * rebuild); the ANN index, whose rebuild costs a full build, once foldMinRows rows wait (any
 * with catchUp), as fewer cost a flat scan of little more than nothing.
 */
export function foldAction(stats: TableStats, config: MaintenanceConfig, options: DecideOptions = {}): Extract<Action, { kind: 'fold' }> | undefined {
  const columns = [KEY_COLUMN, TOKENS_COLUMN].filter((c) => (indexOn(stats, c)?.unindexedRows ?? 0) > 0) as FoldColumn[];
  const waiting = vectorIndexOf(stats)?.unindexedRows ?? 0;
  const vector = waiting > 0 && (options.catchUp || waiting >= config.foldMinRows);
  if (!vector && columns.length === 0) return undefined;
  const what = [...(vector ? [`${waiting} rows into the ANN index`] : []), ...columns.map((c) => `${c} index`)].join(', ');
  return { kind: 'fold', columns, vector, params: vectorIndexParams(config, stats.rows), reason: `fold ${what} without compaction` };
}

function indexOn(stats: TableStats, column: string): IndexInfo | undefined {
  return stats.indices.find((i) => i.columns.length === 1 && i.columns[0] === column);
}

export function vectorIndexParams(config: MaintenanceConfig, rows: number): VectorIndexParams {
  if (config.vectorIndex === 'IVF_PQ') {
    return { kind: 'IVF_PQ', numPartitions: Math.max(1, Math.min(256, Math.round(Math.sqrt(rows) / 4))) };
  }
  return {
    kind: 'HNSW_SQ',
    numPartitions: Math.max(1, Math.ceil(rows / Math.max(1, config.partitionRows))),
    m: config.hnswM,
    efConstruction: config.hnswEfConstruction,
  };
}

export function decide(
  stats: TableStats,
  dimension: number,
  state: MaintenanceState | undefined,
  config: MaintenanceConfig,
  now: number,
  options: DecideOptions = {},
): Decision {
  const actions: Action[] = [];
  const vector = vectorIndexOf(stats);
  const minRows = annMinRows(config, dimension);
  const backingOff = compactionBackingOff(state, now, config, options);

  if (!vector && stats.rows >= minRows) {
    actions.push({
      kind: 'vector-index',
      retrain: false,
      params: vectorIndexParams(config, stats.rows),
      reason: `${stats.rows} rows ≥ ${minRows} (ANN threshold)`,
    });
  } else if (vector) {
    const trained = state?.trainedRows ?? vector.indexedRows;
    const grown = trained > 0 && stats.rows >= config.retrainGrowth * trained;
    const outside = vector.unindexedRows > 0 && vector.unindexedRows >= config.retrainUnindexedRatio * vector.indexedRows;
    if (grown || outside) {
      // Most rows are searched exactly already, so dropping the old index costs queries little, and
      // it makes the compaction in front of the build cheap (see Action). Not while compaction backs
      // off (it would lose again): then the build runs over the fragments as they are.
      const dropFirst = stats.fragments > 1 && !options.compacted && !backingOff && vector.unindexedRows >= vector.indexedRows;
      actions.push({
        kind: 'vector-index',
        retrain: true,
        params: vectorIndexParams(config, stats.rows),
        reason: grown ? `${stats.rows} rows ≥ ${config.retrainGrowth} × ${trained} trained` : `${vector.unindexedRows} unindexed rows ≥ ${config.retrainUnindexedRatio} × ${vector.indexedRows} indexed`,
        ...(dropFirst ? { dropFirst } : {}),
      });
    } else if (vector.segments >= config.maxIndexSegments) {
      actions.push({
        kind: 'vector-index',
        retrain: true,
        params: vectorIndexParams(config, stats.rows),
        reason: `${vector.segments} index segments ≥ ${config.maxIndexSegments}`,
      });
    }
  }
  // Building over many small fragments is several times slower (Fashion-MNIST 60k: 78 s over 107
  // fragments, 23 s over one), so a build starts by compacting.
  const building = actions.some((a) => a.kind === 'vector-index');
  const compactsItself = actions.some((a) => a.kind === 'vector-index' && a.dropFirst);
  if (building && !compactsItself && stats.fragments > 1 && !options.compacted && !backingOff) {
    actions.unshift({ kind: 'optimize', reason: `compact ${stats.fragments} fragments before the build` });
  }
  const willHaveVector = vector !== undefined || building;
  // The LABEL_LIST index serves filters once the ANN index exists; without one it slows the flat
  // prefiltered search down (measured), so both come together.
  if (willHaveVector && !indexOn(stats, TOKENS_COLUMN)) actions.push({ kind: 'tokens-index', reason: 'ANN index present' });
  if (stats.rows >= config.keyIndexMinRows && !indexOn(stats, KEY_COLUMN)) {
    actions.push({ kind: 'key-index', reason: `${stats.rows} rows ≥ ${config.keyIndexMinRows}` });
  }

  // Rows the indexes do not cover yet; indexes built in this run cover everything present now.
  const unindexed = Math.max(0, ...stats.indices.filter((i) => !(building && i === vector)).map((i) => i.unindexedRows));
  const lastOptimizeAt = state?.lastOptimizeAt ?? 0;
  const sinceOptimize = (now - lastOptimizeAt) / 1000;
  // A fold without compaction also resets the age of the rows waiting.
  const lastFoldAt = Math.max(lastOptimizeAt, state?.lastFoldAt ?? 0);
  const sinceFold = (now - lastFoldAt) / 1000;
  const written = state?.versionAfterRun === undefined || state.versionAfterRun !== stats.version;
  const foldDue = unindexed > 0 && (options.catchUp || unindexed >= config.foldMinRows || sinceFold >= config.foldMaxAgeSeconds);
  const reasons: string[] = [];
  if (foldDue) reasons.push(`${unindexed} unindexed rows`);
  // Not on catchUp alone: Lance keeps fragments indexed by different index segments apart, so a
  // few small fragments can remain after any number of compactions.
  if (stats.smallFragments >= config.compactMinFragments && !options.compacted) {
    reasons.push(`${stats.smallFragments} small fragments`);
  }
  if (written && sinceOptimize >= config.keepVersionsSeconds && !options.compacted) reasons.push('old versions to prune');
  // Backing off, what a fold leaves (rows below foldMinRows, fragments, versions) waits for compaction.
  const compactionWaits = backingOff && (reasons.length > 0 || unindexed > 0);
  if (backingOff) {
    // Optimize would compact first and lose again: fold alone (what building leaves lagging).
    const fold = foldDue ? foldAction(stats, config, options) : undefined;
    if (fold && !building) actions.push(fold);
    else if (fold && fold.columns.length) actions.push({ ...fold, vector: false });
  } else if (reasons.length && actions[0]?.kind !== 'optimize' && !compactsItself) actions.push({ kind: 'optimize', reason: reasons.join(', ') });

  let nextDueAt: number | undefined;
  if (actions.length) nextDueAt = now;
  else {
    const due: number[] = [];
    if (unindexed > 0 && (!backingOff || foldAction(stats, config, options))) due.push(lastFoldAt + config.foldMaxAgeSeconds * 1000);
    if (written) due.push(lastOptimizeAt + config.keepVersionsSeconds * 1000);
    if (compactionWaits) due.push(state!.compactRetryAt!);
    if (due.length) nextDueAt = Math.max(now, Math.min(...due));
  }
  return { actions, nextDueAt };
}

/** Milliseconds an action is expected to take, for the Lambda's time budget. */
export function estimateMs(action: Action, stats: TableStats, dimension: number, config: MaintenanceConfig): number {
  const rate = Math.max(1, config.buildFloatsPerSecond);
  switch (action.kind) {
    case 'vector-index':
      // A dropFirst retrain compacts first: about a fifth of a build (measured at 250k × 768).
      return ((action.dropFirst ? 1.2 : 1) * stats.rows * dimension * 1000) / rate;
    case 'fold':
      return action.vector ? (stats.rows * dimension * 1000) / rate : 1000 + stats.rows / 100;
    case 'optimize': {
      // Folding rows in costs a fraction of a build; compaction rewrites at most the small fragments.
      const unindexed = Math.max(0, ...stats.indices.map((i) => i.unindexedRows));
      return 1000 + (unindexed * dimension * 1000) / (rate * 4);
    }
    default:
      return 1000 + stats.rows / 100;
  }
}

// Running one maintenance action: in the worker process (the local server) or in this one (the
// Lambda, tests), once more right away when a concurrent write took its commit.
import type { LanceVectorStore } from '../adapters/lance/lance-store';
import type { MaintenanceState } from '../adapters/lance/maintenance-state';
import type { IndexRecord } from '../core/ports';
import { logger } from '../runtime/logger';
import type { MaintenanceConfig } from './config';
import type { Action } from './decide';
import { WorkerStartError, type MaintenanceWorker } from './worker-client';

const log = logger.child({ component: 'maintenance' });

async function runAction(store: LanceVectorStore, index: IndexRecord, action: Action, config: MaintenanceConfig, now: number, worker?: MaintenanceWorker): Promise<void> {
  if (worker) {
    try {
      return await runInWorker(store, index, action, config, now, worker);
    } catch (error) {
      if (!(error instanceof WorkerStartError)) throw error;
      // Better maintenance that slows writes during a build than none at all.
      log.warn({ event: 'maintenance.worker-unavailable', err: error }, 'maintenance worker could not start: running the action in the server process');
    }
  }
  return runInProcess(store, index, action, config, now);
}

async function runInWorker(store: LanceVectorStore, index: IndexRecord, action: Action, config: MaintenanceConfig, now: number, worker: MaintenanceWorker): Promise<void> {
  const pruneOlderThan = now - config.keepVersionsSeconds * 1000;
  switch (action.kind) {
    case 'vector-index':
      if (action.dropFirst) {
        // Drop, then compact with no ANN index to remap or fold into, then build over the result.
        await worker.run({ op: 'drop-vector-index', index });
        await store.refresh(index);
        await worker.run({ op: 'optimize', index, pruneOlderThan: 0 });
        await store.refresh(index);
      }
      await worker.run({ op: 'vector-index', index, params: action.params });
      break;
    case 'tokens-index':
      await worker.run({ op: 'scalar-index', index, column: 'meta_tokens', kind: 'LABEL_LIST' });
      break;
    case 'key-index':
      await worker.run({ op: 'scalar-index', index, column: 'key', kind: 'BTREE' });
      break;
    case 'optimize':
      // Compact first without pruning, and move this process to the compacted version before
      // the versions it may still be reading are pruned.
      await worker.run({ op: 'optimize', index, pruneOlderThan: 0 });
      await store.refresh(index);
      await worker.run({ op: 'optimize', index, pruneOlderThan });
      break;
    case 'fold':
      for (const column of action.columns) await worker.run({ op: 'scalar-index', index, column, kind: column === 'key' ? 'BTREE' : 'LABEL_LIST' });
      if (action.vector) await worker.run({ op: 'vector-index', index, params: action.params });
      break;
  }
  // The worker committed from its own process: read its version from now on.
  await store.refresh(index);
}

async function runInProcess(store: LanceVectorStore, index: IndexRecord, action: Action, config: MaintenanceConfig, now: number): Promise<void> {
  const pruneOlderThan = now - config.keepVersionsSeconds * 1000;
  switch (action.kind) {
    case 'vector-index':
      if (action.dropFirst) {
        await store.dropVectorIndex(index);
        await store.optimize(index, new Date(0));
      }
      return store.createVectorIndex(index, action.params);
    case 'tokens-index':
      return store.createScalarIndex(index, 'meta_tokens', 'LABEL_LIST');
    case 'key-index':
      return store.createScalarIndex(index, 'key', 'BTREE');
    case 'optimize':
      await store.optimize(index, new Date(pruneOlderThan));
      return;
    case 'fold':
      for (const column of action.columns) await store.createScalarIndex(index, column, column === 'key' ? 'BTREE' : 'LABEL_LIST');
      if (action.vector) await store.createVectorIndex(index, action.params);
      return;
  }
}

/**
 * Lance refused the commit for concurrent ones: "Rewrite transaction was preempted by concurrent
 * transaction Update", or, when the writers committed faster than a slow (idle-priority) worker
 * could rebase, "Too many concurrent writers. Attempted 7 times, but failed on retry_timeout".
 */
export function isCommitConflict(error: unknown): boolean {
  return /commit conflict|preempted|too many concurrent writers/i.test(String((error as Error)?.message ?? error));
}

/** Runs an action, once more right away if a concurrent write took its commit: the writer won the race. */
export async function runWithRetry(store: LanceVectorStore, index: IndexRecord, action: Action, config: MaintenanceConfig, now: () => number, worker?: MaintenanceWorker): Promise<void> {
  try {
    await runAction(store, index, action, config, now(), worker);
  } catch (error) {
    if (!isCommitConflict(error)) throw error;
    log.info({ event: 'maintenance.conflict-retry', storageId: index.storageId, action: action.kind }, `${action.kind} lost its commit to a concurrent write: trying once more`);
    await runAction(store, index, action, config, now(), worker);
  }
}

/** What an optimize did with the write lock: how long PutVectors waited for it. */
export interface OptimizeRun {
  /** Milliseconds the write lock was held (undefined: not taken). */
  lockedMs?: number;
}

/**
 * Optimize (compact, prune, fold). Under steady upserts of existing keys the compaction loses its
 * commit every time, and optimize() stops there: no prune, so versions, fragments and the index
 * files of every fold pile up until writes pause (LanceDB JS 0.39 has no prune-only call). So an
 * optimize that lost, when it took at most lockedOptimizeMaxSeconds, runs again holding the
 * index's write lock: writes wait that long (and commit as one group after), then it has nothing
 * to lose its commit to. While writes contended lately (compactBackoffMaxSeconds) and the last
 * optimize was short, it takes the lock at once rather than losing first (each lost compaction
 * leaves its rewritten files to Lance's 7-day GC). A longer one keeps the old way: one more try,
 * then back off and fold without compaction.
 */
export async function runOptimize(
  store: LanceVectorStore,
  index: IndexRecord,
  action: Extract<Action, { kind: 'optimize' }>,
  config: MaintenanceConfig,
  now: () => number,
  state: MaintenanceState,
  worker?: MaintenanceWorker,
): Promise<OptimizeRun> {
  const maxMs = config.lockedOptimizeMaxSeconds * 1000;
  const short = (ms: number | undefined) => maxMs > 0 && ms !== undefined && ms <= maxMs;
  const contended = state.compactContendedAt !== undefined && now() - state.compactContendedAt < config.compactBackoffMaxSeconds * 1000;
  if (!(contended && short(state.optimizeMs))) {
    const t0 = now();
    try {
      await runAction(store, index, action, config, t0, worker);
      state.optimizeMs = now() - t0;
      return {};
    } catch (error) {
      // A lost optimize did all its work up to the commit: its duration is the locked one's estimate.
      state.optimizeMs = now() - t0;
      if (!isCommitConflict(error)) throw error;
      state.compactContendedAt = now();
      if (!short(state.optimizeMs)) {
        log.info({ event: 'maintenance.conflict-retry', storageId: index.storageId, action: action.kind, ms: Math.round(state.optimizeMs) }, 'optimize lost its commit to a concurrent write and is too long to hold writes for: trying once more');
        await runAction(store, index, action, config, now(), worker);
        return {};
      }
    }
  }
  return lockedOptimize(store, index, action, config, now, state, worker, maxMs * 2);
}

async function lockedOptimize(
  store: LanceVectorStore,
  index: IndexRecord,
  action: Action,
  config: MaintenanceConfig,
  now: () => number,
  state: MaintenanceState,
  worker: MaintenanceWorker | undefined,
  holdMs: number,
): Promise<OptimizeRun> {
  let work: Promise<void> | undefined;
  let timedOut = false;
  const t0 = now();
  let lockedAt = t0;
  await store.withWriteLock(index, async () => {
    lockedAt = now();
    work = runAction(store, index, action, config, lockedAt, worker);
    let timer: NodeJS.Timeout | undefined;
    const released = new Promise<void>((resolve) => (timer = setTimeout(() => ((timedOut = true), resolve()), holdMs)));
    try {
      await Promise.race([work, released]);
    } finally {
      clearTimeout(timer);
    }
  });
  const lockedMs = now() - lockedAt;
  if (timedOut) {
    // Writes go on; the optimize finishes unlocked (and most likely loses its commit again).
    log.warn({ event: 'maintenance.lock-released', storageId: index.storageId, holdMs }, 'optimize held the write lock too long: writes resume');
  }
  try {
    await work;
  } finally {
    state.optimizeMs = now() - lockedAt;
  }
  log.info({ event: 'maintenance.locked-optimize', storageId: index.storageId, lockedMs: Math.round(lockedMs), waitedMs: Math.round(lockedAt - t0) }, 'optimize ran holding the write lock');
  return { lockedMs };
}

// Running one maintenance action: in the worker process (the local server) or in this one (the
// Lambda, tests), once more right away when a concurrent write took its commit.
import type { LanceVectorStore } from '../adapters/lance/lance-store';
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

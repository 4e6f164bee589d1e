// Index maintenance: one module, run by the local server's timer (startMaintenanceLoop), by the
// scheduled Lambda (handler.ts), and synchronously by whoever needs "caught up" (runMaintenanceOnce
// with catchUp, e.g. the benchmark).
//
// Per index: read cheap statistics, decide (decide.ts), then run the due actions one by one. Every
// action is a single Lance commit (create index, optimize), so writes and queries go on meanwhile
// against the previous version, and a run that fails or is killed leaves the last committed version
// as it was. Writes win the commit races: a compaction preempted by upserts or deletes runs again
// holding the index's write lock when it is short (actions.ts runOptimize), else it is tried once
// more, then backs off, and the new rows are folded in without it (a 'fold').
import { LanceVectorStore } from '../adapters/lance/lance-store';
import type { TableStats } from '../adapters/lance/index-stats';
import type { MaintenanceState } from '../adapters/lance/maintenance-state';
import type { Deps } from '../core/deps';
import type { IndexRecord } from '../core/ports';
import { logger } from '../runtime/logger';
import { maintenanceConfigFromEnv, type MaintenanceConfig } from './config';
import { compactRetryAt, decide, estimateMs, foldAction, lockedRetryAt, type Action } from './decide';
import { sweepOrphans, type LeaseHeld } from './orphans';
import { isCommitConflict, runOptimize, runWithRetry } from './actions';
import { MaintenanceWorker } from './worker-client';

const log = logger.child({ component: 'maintenance' });

export interface MaintenanceOptions {
  config?: MaintenanceConfig;
  /** Fold in every unindexed row and compact now, ignoring age and size thresholds. */
  catchUp?: boolean;
  /** Epoch ms by which the run must be done (the Lambda's budget); actions that would not fit wait. */
  deadline?: number;
  /** Checked between actions: a stopping server ends the run early. */
  shouldStop?: () => boolean;
  /** Injectable clock (epoch ms). */
  now?: () => number;
  /** Runs the heavy actions in this process (default) or in a worker process (the local server). */
  worker?: MaintenanceWorker;
  /**
   * Wraps each index's maintenance in runMaintenanceOnce (the Lambda: the index's lease, and the
   * hand-off of a build too long for it); `undefined`: another process maintains it now (skipped).
   */
  claim?: (index: IndexRecord, maintain: () => Promise<IndexReport>) => Promise<IndexReport | undefined>;
  /** Whether an index's lease is held: the orphan sweep skips those tables (orphans.ts). */
  leaseHeld?: LeaseHeld;
}

export interface IndexReport {
  bucket: string;
  index: string;
  storageId: string;
  /** held: another process (the build job) maintains it now. */
  outcome: 'idle' | 'ok' | 'failed' | 'partial' | 'empty' | 'held';
  /** lockedMs: how long an optimize held the index's write lock (PutVectors waited). */
  actions: { kind: Action['kind']; reason: string; ms: number; lockedMs?: number; error?: string }[];
  deferred: Action['kind'][];
  /** The longest estimate (ms) among the actions deferred for lack of time: past a whole run's, no run can do them. */
  deferredExpectedMs?: number;
  before?: Pick<TableStats, 'rows' | 'fragments' | 'smallFragments' | 'version'>;
}

export interface RunReport {
  startedAt: number;
  ms: number;
  indexes: IndexReport[];
  /** True when every index was looked at (no deadline or stop cut the pass short). */
  complete: boolean;
}

/** The store maintenance works on: the LanceDB adapter (the only VectorStorePort with tables). */
export function maintainableStore(deps: Pick<Deps, 'store'>): LanceVectorStore {
  if (!(deps.store instanceof LanceVectorStore)) throw new Error('index maintenance needs the LanceDB vector store');
  return deps.store;
}

// One maintenance run per index at a time in this process (the timer and a synchronous caller may
// overlap); across processes Lance's commit protocol keeps concurrent runs safe.
const perIndex = new Map<string, Promise<unknown>>();

function serialized<T>(storageId: string, run: () => Promise<T>): Promise<T> {
  const previous = perIndex.get(storageId) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(run);
  perIndex.set(storageId, next);
  const cleanup = () => perIndex.get(storageId) === next && perIndex.delete(storageId);
  next.then(cleanup, cleanup);
  return next;
}

function brief(stats: TableStats): IndexReport['before'] {
  return { rows: stats.rows, fragments: stats.fragments, smallFragments: stats.smallFragments, version: stats.version };
}

/** Once per table: remove the duplicate keys concurrent first writes could store before the write lock. */
async function checkKeysUnique(store: LanceVectorStore, index: IndexRecord, state: MaintenanceState, now: number): Promise<void> {
  try {
    const removed = await store.removeDuplicateKeys(index);
    state.keysCheckedAt = now;
    if (removed) log.warn({ event: 'maintenance.duplicates-removed', storageId: index.storageId, removed }, 'removed rows of keys stored twice');
  } catch (error) {
    log.warn({ event: 'maintenance.failed', storageId: index.storageId, action: 'unique-keys', err: error }, 'duplicate key check failed');
  }
}

/** Maintains one index: decide from its statistics, run what is due, record the state. */
export function maintainIndex(deps: Pick<Deps, 'store'>, index: IndexRecord, options: MaintenanceOptions = {}): Promise<IndexReport> {
  return serialized(index.storageId, () => maintainIndexNow(deps, index, options));
}

async function maintainIndexNow(deps: Pick<Deps, 'store'>, index: IndexRecord, options: MaintenanceOptions): Promise<IndexReport> {
  const store = maintainableStore(deps);
  const config = options.config ?? maintenanceConfigFromEnv();
  const clock = options.now ?? Date.now;
  const report: IndexReport = { bucket: index.bucketName, index: index.name, storageId: index.storageId, outcome: 'idle', actions: [], deferred: [] };
  const started = clock();
  let stats = await store.tableStats(index);
  if (!stats) {
    report.outcome = 'empty';
    return report;
  }
  report.before = brief(stats);
  const state: MaintenanceState = { ...(await store.maintenanceState.read(index.storageId)) };
  if (state.keysCheckedAt === undefined) await checkKeysUnique(store, index, state, clock());
  // With catchUp, decide again after the builds: rows written during a long build are folded in.
  for (let pass = 0; pass < (options.catchUp ? 3 : 1); pass++) {
    const compacted = report.actions.some((a) => a.kind === 'optimize' && !a.error);
    const decision = decide(stats, index.dimension, state, config, clock(), { catchUp: options.catchUp, compacted });
    if (decision.actions.length === 0) break;
    // A fold may join the queue when compaction loses to the writes.
    const queue = [...decision.actions];
    for (const action of queue) {
      // The LABEL_LIST index comes with the ANN index (alone it slows flat filtered search down).
      const vectorMissing = action.kind === 'tokens-index' && report.deferred.includes('vector-index');
      if (options.shouldStop?.() || vectorMissing) {
        report.deferred.push(action.kind);
        continue;
      }
      const expected = estimateMs(action, stats, index.dimension, config);
      if (options.deadline !== undefined && clock() + expected > options.deadline) {
        report.deferred.push(action.kind);
        report.deferredExpectedMs = Math.max(report.deferredExpectedMs ?? 0, expected);
        log.info({ event: 'maintenance.deferred', storageId: index.storageId, action: action.kind, expectedMs: Math.round(expected) }, 'action deferred: not enough time left');
        continue;
      }
      const t0 = clock();
      log.info({ event: 'maintenance.action-start', storageId: index.storageId, action: action.kind, reason: action.reason }, `${action.kind} started`);
      try {
        const run = action.kind === 'optimize' ? await runOptimize(store, index, action, config, clock, state, options.worker) : await runWithRetry(store, index, action, config, clock, options.worker);
        const ms = clock() - t0;
        report.actions.push({ kind: action.kind, reason: action.reason, ms, ...(run?.lockedMs !== undefined ? { lockedMs: run.lockedMs } : {}) });
        if (action.kind === 'vector-index' || (action.kind === 'fold' && action.vector)) {
          state.trainedRows = stats.rows;
          state.trainedAt = t0;
        }
        if (action.kind === 'optimize') {
          state.lastOptimizeAt = t0;
          state.compactFailures = undefined;
          // Writes waited for it: the next one waits, so writes wait at most a share of the time.
          state.compactRetryAt = run?.lockedMs === undefined ? undefined : lockedRetryAt(run.lockedMs, config, clock());
        }
        if (action.kind === 'fold') state.lastFoldAt = t0;
        log.info(
          { event: 'maintenance.action', bucket: index.bucketName, index: index.name, storageId: index.storageId, action: action.kind, reason: action.reason, ms: Math.round(ms), rows: stats.rows },
          `${action.kind} done`,
        );
      } catch (error) {
        const ms = clock() - t0;
        report.actions.push({ kind: action.kind, reason: action.reason, ms, error: String((error as Error)?.message ?? error) });
        log.warn(
          { event: 'maintenance.failed', bucket: index.bucketName, index: index.name, storageId: index.storageId, action: action.kind, ms: Math.round(ms), err: error },
          `${action.kind} failed; the index keeps its last committed version`,
        );
        if (action.kind === 'optimize' && isCommitConflict(error)) {
          // Writes keep taking compaction's commit: back off, and fold the new rows in without it.
          state.compactFailures = (state.compactFailures ?? 0) + 1;
          state.compactRetryAt = compactRetryAt(state.compactFailures, config, clock());
          const fresh = await store.tableStats(index);
          const fold = fresh && foldAction(fresh, config, { catchUp: options.catchUp });
          if (fold && !queue.some((a) => a.kind === 'vector-index')) queue.push(fold);
          else if (fold?.columns.length) queue.push({ ...fold, vector: false });
        }
      }
    }
    const next = await store.tableStats(index);
    if (!next) break;
    stats = next;
    if (report.deferred.length || report.actions.some((a) => a.error)) break;
  }
  const failed = report.actions.filter((a) => a.error).length;
  report.outcome = report.actions.length === 0 ? (report.deferred.length ? 'partial' : 'idle') : failed === report.actions.length ? 'failed' : failed || report.deferred.length ? 'partial' : 'ok';
  const ran = report.actions.filter((a) => !a.error).map((a) => a.kind);
  Object.assign(state, {
    lastRunAt: started,
    lastDurationMs: clock() - started,
    versionAfterRun: stats.version,
    ...(report.outcome === 'idle' ? {} : { lastOutcome: report.outcome === 'ok' ? 'ok' : report.outcome === 'failed' ? 'failed' : 'partial', lastActions: ran }),
    ...(failed ? { lastError: report.actions.find((a) => a.error)!.error } : report.outcome === 'ok' ? { lastError: undefined } : {}),
  } satisfies MaintenanceState);
  try {
    // An idle run records nothing: a commit per index per interval would be the idle index's only cost.
    if (report.outcome !== 'idle') await store.maintenanceState.write(index.storageId, state);
  } catch (error) {
    log.warn({ event: 'maintenance.state-failed', storageId: index.storageId, err: error }, 'could not record maintenance state');
  }
  if (report.outcome !== 'idle') {
    log.info(
      { event: 'maintenance.index', bucket: index.bucketName, index: index.name, storageId: index.storageId, outcome: report.outcome, actions: ran, deferred: report.deferred, ms: Math.round(clock() - started), rows: stats.rows, fragments: stats.fragments },
      'index maintained',
    );
  }
  return report;
}

/** Every index of every bucket, in catalog order. */
export async function* allIndexes(deps: Pick<Deps, 'catalog'>): AsyncGenerator<IndexRecord> {
  let afterBucket: string | undefined;
  do {
    const buckets = await deps.catalog.listBuckets({ limit: 100, after: afterBucket });
    for (const bucket of buckets.items) {
      let afterIndex: string | undefined;
      do {
        const indexes = await deps.catalog.listIndexes(bucket.name, { limit: 100, after: afterIndex });
        yield* indexes.items;
        afterIndex = indexes.last;
      } while (afterIndex !== undefined);
    }
    afterBucket = buckets.last;
  } while (afterBucket !== undefined);
}

const skipped = (index: IndexRecord): IndexReport => ({ bucket: index.bucketName, index: index.name, storageId: index.storageId, outcome: 'idle', actions: [], deferred: [] });

let lastStateCompaction = 0;

/**
 * Housekeeping of the state table itself after a pass: forget deleted indexes' state and sweep
 * their orphaned tables (only after a complete pass, which saw every index), and drop its old
 * versions now and then. Failures are logged, not thrown: the next pass tries again.
 */
export async function housekeeping(deps: Pick<Deps, 'catalog' | 'store'>, seen: ReadonlySet<string>, complete: boolean, config: MaintenanceConfig, clock: () => number, leaseHeld?: LeaseHeld): Promise<void> {
  const store = maintainableStore(deps);
  try {
    if (complete) {
      const states = await store.maintenanceState.readAll();
      await store.maintenanceState.remove([...states.keys()].filter((id) => !seen.has(id)));
      const orphans = await sweepOrphans(deps, store, seen, leaseHeld);
      if (orphans.length) log.info({ event: 'maintenance.orphans', removed: orphans }, 'removed tables of deleted indexes');
    }
    if (clock() - lastStateCompaction >= config.keepVersionsSeconds * 1000) {
      lastStateCompaction = clock();
      await store.maintenanceState.compact(new Date(clock() - config.keepVersionsSeconds * 1000));
    }
  } catch (error) {
    log.warn({ event: 'maintenance.state-failed', err: error }, 'maintenance state housekeeping failed');
  }
}

/** One pass over every index. Resolves when the pass is done; never throws for one index's failure. */
export async function runMaintenanceOnce(deps: Pick<Deps, 'catalog' | 'store'>, options: MaintenanceOptions = {}): Promise<RunReport> {
  const config = options.config ?? maintenanceConfigFromEnv();
  const clock = options.now ?? Date.now;
  const startedAt = clock();
  const report: RunReport = { startedAt, ms: 0, indexes: [], complete: true };
  const seen = new Set<string>();
  for await (const index of allIndexes(deps)) {
    seen.add(index.storageId);
    if (options.shouldStop?.() || (options.deadline !== undefined && clock() >= options.deadline)) {
      report.complete = false;
      break;
    }
    try {
      const maintain = () => maintainIndex(deps, index, { ...options, config });
      const result = (options.claim ? await options.claim(index, maintain) : await maintain()) ?? { ...skipped(index), outcome: 'held' };
      report.indexes.push(result);
      if (result.deferred.length) report.complete = false;
    } catch (error) {
      report.complete = false;
      report.indexes.push({ ...skipped(index), outcome: 'failed' });
      log.warn({ event: 'maintenance.failed', storageId: index.storageId, err: error }, 'index maintenance failed');
    }
  }
  await housekeeping(deps, seen, report.complete, config, clock, options.leaseHeld);
  report.ms = clock() - startedAt;
  const busy = report.indexes.filter((i) => i.outcome !== 'idle' && i.outcome !== 'empty');
  if (busy.length) log.info({ event: 'maintenance.run', indexes: report.indexes.length, maintained: busy.length, complete: report.complete, ms: Math.round(report.ms) }, 'maintenance pass');
  return report;
}

export interface MaintenanceLoop {
  /** Runs a pass now (after the one in flight, if any) and resolves with its report. */
  runNow(options?: Pick<MaintenanceOptions, 'catchUp'>): Promise<RunReport>;
  /** Stops the timer; resolves once the pass in flight has finished its current action. */
  stop(): Promise<void>;
  /** The worker process running the heavy actions, when there is one. */
  worker?: MaintenanceWorker;
}

export interface MaintenanceLoopOptions {
  config?: MaintenanceConfig;
  /** Overrides config.intervalSeconds. */
  intervalMs?: number;
  /**
   * Heavy actions in a worker process (default; S3V_MAINT_WORKER=off runs them in this process):
   * in-process, an index build holds LanceDB's CPU pool and every write waits for it (worker.ts).
   */
  worker?: boolean;
  /**
   * Runs one pass (default: runMaintenanceOnce). `explicit`: runNow, whose caller waits for it;
   * false for the timer's passes. The shared service wraps passes in its lease here.
   */
  runPass?: (pass: MaintenanceOptions, explicit: boolean) => Promise<RunReport>;
}

/** The local server's maintenance timer: a pass every interval, never two at once. */
export function startMaintenanceLoop(deps: Pick<Deps, 'catalog' | 'store'>, options: MaintenanceLoopOptions = {}): MaintenanceLoop {
  const config = options.config ?? maintenanceConfigFromEnv();
  const intervalMs = options.intervalMs ?? config.intervalSeconds * 1000;
  const store = maintainableStore(deps);
  const useWorker = options.worker ?? process.env.S3V_MAINT_WORKER !== 'off';
  const worker = useWorker ? new MaintenanceWorker(store.storage) : undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<RunReport> | undefined;

  const runPass = options.runPass ?? ((pass: MaintenanceOptions) => runMaintenanceOnce(deps, pass));
  const pass = (catchUp = false, explicit = false): Promise<RunReport> => {
    const previous = current ?? Promise.resolve(undefined);
    const run = previous
      .catch(() => undefined)
      .then(() => runPass({ config, catchUp, shouldStop: () => stopped, worker }, explicit));
    current = run;
    run.finally(() => current === run && (current = undefined)).catch(() => undefined);
    return run;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      pass()
        .catch((error) => log.error({ event: 'maintenance.failed', err: error }, 'maintenance pass failed'))
        .finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();
  log.info({ event: 'maintenance.started', intervalMs }, 'maintenance timer started');
  return {
    runNow: (opts = {}) => pass(opts.catchUp ?? false, true),
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      // Ending the worker abandons its action (nothing committed), so a stop does not wait for a build.
      await worker?.close();
      await current?.catch(() => undefined);
    },
    worker,
  };
}

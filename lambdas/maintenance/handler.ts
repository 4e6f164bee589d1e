// The scheduled maintenance Lambda (EventBridge): one pass over every index within the function's
// time budget. Actions that would not fit are deferred to the next invocation; one that is cut off
// anyway (timeout) commits nothing, so the index keeps its last version. An index build that cannot
// fit any invocation (its estimate exceeds the whole budget) is handed to a longer-running job
// (job-launcher.ts, job.ts) instead of being deferred forever.
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { indexLeaseHeld, MaintenanceLease, underLease } from '../adapters/maintenance-lease';
import type { Deps } from '../core/deps';
import { depsFromEnv, settingsFromEnv, type RuntimeSettings } from '../runtime/deps';
import { logger } from '../runtime/logger';
import { maintenanceConfigFromEnv, type MaintenanceConfig } from './config';
import { ecsJobLauncherFromEnv, indexLease, JOB_LEASE_MS, type JobLauncher } from './job-launcher';
import { runMaintenanceOnce, type IndexReport, type RunReport } from './maintenance';

const log = logger.child({ component: 'maintenance' });

/** Time kept back from the Lambda's budget for recording state and returning. */
const SAFETY_MS = 20_000;
/** Without a context (a manual invoke in tests), assume Lambda's 15-minute maximum. */
const DEFAULT_BUDGET_MS = 15 * 60 * 1000;

/** A lease outlives the run that took it by this much (the run cannot outlive its Lambda timeout). */
const LEASE_MARGIN_MS = 60_000;

export interface JobStarted {
  index: string;
  storageId: string;
  /** The task ARN, or why none started (the next run tries again). */
  job?: string;
  error?: string;
}

type Summary = Omit<RunReport, 'indexes'> & { indexes: unknown[]; jobs: JobStarted[] };

export interface ScheduledOptions {
  budgetMs: number;
  config?: MaintenanceConfig;
  /** Starts the long-running job; undefined (no job in the stack): long builds stay deferred. */
  launcher?: JobLauncher;
}

/**
 * The estimate of what the run deferred, if it exceeds a whole run's time: the ANN build, a fold of
 * many new rows (optimize) or a scalar index build on a very large index. Only a job can do it.
 */
function tooLongForOneRun(report: IndexReport, runMs: number): number | undefined {
  const expected = report.deferredExpectedMs;
  return expected !== undefined && expected > runMs ? expected : undefined;
}

/** One scheduled run: the run's lease, then each index under its own lease, long builds to a job. */
export async function runScheduled(deps: Pick<Deps, 'catalog' | 'store'>, settings: Pick<RuntimeSettings, 'dynamo' | 'table'>, options: ScheduledOptions): Promise<Summary | { skipped: string }> {
  const { budgetMs, launcher } = options;
  const config = options.config ?? maintenanceConfigFromEnv();
  const runMs = Math.max(0, budgetMs - Math.min(SAFETY_MS, budgetMs * 0.2));
  const jobs: JobStarted[] = [];
  // Overlapping runs (a slow run and the next schedule, a manual invoke) take turns: the second skips.
  const runLease = new MaintenanceLease(settings.dynamo, settings.table);
  const report = await underLease(runLease, budgetMs + LEASE_MARGIN_MS, () =>
    runMaintenanceOnce(deps, {
      config,
      deadline: Date.now() + runMs,
      // A job may still be building a table whose index was deleted: the sweep leaves it to the job.
      leaseHeld: indexLeaseHeld(settings.dynamo, settings.table),
      claim: async (index, maintain) => {
        // The index's lease: held by a job building it (skip), else by this run while it maintains it.
        const holder = randomUUID();
        const lease = indexLease(settings.dynamo, settings.table, index.storageId, holder);
        const taken = await lease.take(budgetMs + LEASE_MARGIN_MS);
        if (!taken.held) return undefined;
        let handedOver = false;
        try {
          // The runner before this one let the index's lease lapse without giving it back: it died
          // holding it (a run killed at its timeout mid-action, a job stopped). Estimates said it
          // fit; it did not. Trying again here would end the same way every run: the job does it.
          const abandoned = launcher !== undefined && taken.abandonedBy !== undefined;
          const result: IndexReport = abandoned
            ? { bucket: index.bucketName, index: index.name, storageId: index.storageId, outcome: 'partial', actions: [], deferred: [] }
            : await maintain();
          const expected = abandoned ? undefined : tooLongForOneRun(result, runMs);
          if (abandoned || expected !== undefined) {
            const name = `${index.bucketName}/${index.name}`;
            const why = abandoned ? { abandonedBy: taken.abandonedBy } : { expectedMs: Math.round(expected!) };
            if (!launcher) {
              log.warn({ event: 'maintenance.too-long', storageId: index.storageId, ...why }, 'index build exceeds one run and no job is configured: deferred');
            } else {
              // The lease passes to the job under the same holder id: it renews it while it runs.
              await lease.acquire(JOB_LEASE_MS);
              try {
                const job = await launcher.start({ index, leaseHolder: holder });
                handedOver = true;
                jobs.push({ index: name, storageId: index.storageId, job });
                log.info({ event: 'maintenance.job-started', storageId: index.storageId, job, ...why }, 'index maintenance handed to a job');
              } catch (error) {
                jobs.push({ index: name, storageId: index.storageId, error: String((error as Error)?.message ?? error) });
                log.warn({ event: 'maintenance.job-failed', storageId: index.storageId, err: error }, 'could not start the build job; the next run tries again');
              }
            }
          }
          return result;
        } finally {
          if (!handedOver) await lease.release();
        }
      },
    }),
  );
  if (!report) return { skipped: 'another maintenance run holds the lease' };
  // A compact summary as the invocation result (the details are in the structured log lines).
  return {
    ...report,
    indexes: report.indexes
      .filter((i) => i.outcome !== 'idle' && i.outcome !== 'empty')
      .map((i) => ({ index: `${i.bucket}/${i.index}`, outcome: i.outcome, actions: i.actions.map((a) => a.kind), deferred: i.deferred })),
    jobs,
  };
}

export async function handler(_event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<Summary | { skipped: string }> {
  const deps = await depsFromEnv();
  const budgetMs = context?.getRemainingTimeInMillis?.() ?? DEFAULT_BUDGET_MS;
  return runScheduled(deps, settingsFromEnv(), { budgetMs, launcher: ecsJobLauncherFromEnv() });
}

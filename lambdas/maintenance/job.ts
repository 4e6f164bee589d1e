// The long-running maintenance job: maintains one index (the same maintainIndex as the scheduled
// Lambda and the local server) without a time limit, then exits. Started by the optimize Lambda for
// a build that no invocation can finish (handler.ts), as an ECS Fargate task of the stack
// (lib/maintenance-job.ts, whose image runs this file bundled). It holds the index's lease the
// Lambda took for it (same holder id), renews it while it runs and gives it back at the end; a
// job that loses its lease stops at once (an unfinished build commits nothing).
import { keepRenewed } from '../adapters/maintenance-lease';
import { createDeps, settingsFromEnv, type RuntimeSettings } from '../runtime/deps';
import { logger } from '../runtime/logger';
import type { Deps } from '../core/deps';
import { maintenanceConfigFromEnv } from './config';
import { indexLease, JOB_ENV, JOB_LEASE_MS } from './job-launcher';
import { maintainIndex, type IndexReport } from './maintenance';

const log = logger.child({ component: 'maintenance-job' });

export interface JobOptions {
  env?: NodeJS.ProcessEnv;
  /** Default: from the environment, as in the Lambda (S3V_TABLE, S3V_STORAGE_URI, …). */
  settings?: RuntimeSettings;
  deps?: Pick<Deps, 'catalog' | 'store'>;
  /** Renew the lease this often; default a quarter of its duration. */
  renewEveryMs?: number;
  leaseMs?: number;
  /** Called when the lease is lost (taken over, or not renewed in time); default: exit at once. */
  onLeaseLost?: () => void;
  /** How often the job looks whether its index was deleted meanwhile; default 30 s. */
  goneCheckMs?: number;
}

export type JobResult =
  | { outcome: 'done'; report: IndexReport }
  /** Another holder has the index's lease (a newer job, or a Lambda run after this job's lease expired). */
  | { outcome: 'held' }
  /** The index was deleted (or recreated under a new storage id) since the job was started. */
  | { outcome: 'gone' };

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}

export async function runJob(options: JobOptions = {}): Promise<JobResult> {
  const env = options.env ?? process.env;
  const bucket = required(env, JOB_ENV.bucket);
  const indexName = required(env, JOB_ENV.index);
  const storageId = required(env, JOB_ENV.storageId);
  const holder = required(env, JOB_ENV.holder);
  const settings = options.settings ?? settingsFromEnv(env);
  const deps = options.deps ?? createDeps(settings);
  const leaseMs = options.leaseMs ?? JOB_LEASE_MS;
  const lease = indexLease(settings.dynamo, settings.table, storageId, holder);
  if (!(await lease.acquire(leaseMs))) return { outcome: 'held' };

  const lost = options.onLeaseLost ?? (() => {
    log.error({ event: 'maintenance.job-lease-lost', storageId }, 'the index lease was lost: stopping (the unfinished build commits nothing)');
    process.exit(3);
  });
  // Renewed while it runs; lost when another holder has it or when no renewal was confirmed for
  // most of its life (DynamoDB erroring or silent from here), before it can lapse to another runner.
  const stopRenewing = keepRenewed(lease, leaseMs, lost, {
    everyMs: options.renewEveryMs ?? leaseMs / 4,
    onError: (error) => log.warn({ event: 'maintenance.job-lease-renewal-failed', storageId, err: error }, 'lease not renewed; retrying'),
  });
  const isGone = async () => (await deps.catalog.getIndex(bucket, indexName))?.storageId !== storageId;
  try {
    const index = await deps.catalog.getIndex(bucket, indexName);
    if (!index || index.storageId !== storageId) return { outcome: 'gone' };
    log.info({ event: 'maintenance.job-start', bucket, index: indexName, storageId }, 'maintenance job started');
    // A DeleteIndex may land while the job builds: looked for now and then (no next action starts
    // then) and at the end. What the build may have committed into the dropped table is then the
    // job's to remove: the orphan sweep leaves a table alone while its index lease is held.
    let gone = false;
    let looking = false;
    const watch = setInterval(() => {
      if (looking) return;
      looking = true;
      isGone()
        .then((g) => (gone ||= g), () => undefined)
        .finally(() => (looking = false));
    }, options.goneCheckMs ?? 30_000);
    watch.unref();
    let report: IndexReport | undefined;
    let failure: unknown;
    try {
      // catchUp: rows written during a long build are folded in before the job ends.
      report = await maintainIndex(deps, index, { config: maintenanceConfigFromEnv(env), catchUp: true, shouldStop: () => gone });
    } catch (error) {
      failure = error;
    } finally {
      clearInterval(watch);
    }
    if (gone || (await isGone().catch(() => false))) {
      await deps.store.dropIndex(index).catch((error: unknown) => log.warn({ event: 'maintenance.job-drop-failed', storageId, err: error }, 'table of the deleted index not removed; the orphan sweep will'));
      log.info({ event: 'maintenance.job-index-gone', storageId }, 'the index was deleted during the job: its table is removed');
      return { outcome: 'gone' };
    }
    if (!report) throw failure;
    log.info({ event: 'maintenance.job-done', storageId, outcome: report.outcome, actions: report.actions.map((a) => a.kind) }, 'maintenance job done');
    return { outcome: 'done', report };
  } finally {
    stopRenewing();
    await lease.release().catch((error: unknown) => log.warn({ event: 'maintenance.job-release-failed', storageId, err: error }, 'lease not released; it expires'));
  }
}

if (require.main === module) {
  runJob().then(
    (result) => {
      const failed = result.outcome === 'done' && result.report.outcome === 'failed';
      log.info({ event: 'maintenance.job-exit', outcome: result.outcome }, 'maintenance job exiting');
      process.exit(failed ? 1 : 0);
    },
    (error: unknown) => {
      log.error({ event: 'maintenance.job-error', err: error }, 'maintenance job failed');
      process.exit(1);
    },
  );
}

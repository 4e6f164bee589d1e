// Maintenance when several server processes share one catalog: every process runs the timer, but a
// pass runs only under the catalog's maintenance lease (the same item the scheduled Lambda takes),
// so exactly one process maintains the indexes at a time. The holder renews the lease while its
// pass runs; a killed holder's lease lapses after leaseMs and another process takes over. A holder
// that fails to renew (stalled past the expiry) stops its pass at the next action.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { MaintenanceLease } from '../adapters/maintenance-lease';
import type { Deps } from '../core/deps';
import type { MaintenanceConfig } from '../maintenance/config';
import { maintenanceConfigFromEnv } from '../maintenance/config';
import { maintainableStore, runMaintenanceOnce, type MaintenanceLoop, type MaintenanceOptions, type RunReport } from '../maintenance/maintenance';
import { MaintenanceWorker } from '../maintenance/worker-client';
import { logger } from '../runtime/logger';

const log = logger.child({ component: 'maintenance' });

export interface SharedMaintenanceOptions {
  client: DynamoDBClient;
  table: string;
  config?: MaintenanceConfig;
  intervalMs?: number;
  /** A dead holder blocks maintenance this long at most; renewed every third of it. */
  leaseMs?: number;
  worker?: boolean;
  /** The pass itself (tests observe it); default runMaintenanceOnce. */
  pass?: (deps: Pick<Deps, 'catalog' | 'store'>, options: MaintenanceOptions) => Promise<RunReport>;
}

const skipped = (): RunReport => ({ startedAt: Date.now(), ms: 0, indexes: [], complete: false });

export function startSharedMaintenanceLoop(deps: Pick<Deps, 'catalog' | 'store'>, options: SharedMaintenanceOptions): MaintenanceLoop {
  const config = options.config ?? maintenanceConfigFromEnv();
  const intervalMs = options.intervalMs ?? config.intervalSeconds * 1000;
  const leaseMs = options.leaseMs ?? 60_000;
  const pass = options.pass ?? runMaintenanceOnce;
  const store = maintainableStore(deps);
  const worker = (options.worker ?? process.env.S3V_MAINT_WORKER !== 'off') ? new MaintenanceWorker(store.storage) : undefined;
  const lease = new MaintenanceLease(options.client, options.table);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<RunReport> | undefined;

  /** One pass under the lease; `wait`: until the lease is free (an explicit catch-up), else skip. */
  const leased = async (catchUp: boolean, wait: boolean): Promise<RunReport> => {
    while (!(await lease.acquire(leaseMs))) {
      if (!wait || stopped) return skipped();
      await new Promise((r) => setTimeout(r, Math.min(1000, leaseMs / 4)));
    }
    let lost = false;
    const renewal = setInterval(() => {
      lease.acquire(leaseMs).then(
        (held) => {
          if (!held && !lost) {
            lost = true;
            log.warn({ event: 'maintenance.lease-lost' }, 'maintenance lease taken over by another process: stopping this pass');
          }
        },
        () => undefined,
      );
    }, leaseMs / 3);
    try {
      return await pass(deps, { config, catchUp, shouldStop: () => stopped || lost, worker });
    } finally {
      clearInterval(renewal);
      await lease.release().catch(() => undefined);
    }
  };
  const run = (catchUp: boolean, wait: boolean): Promise<RunReport> => {
    const previous = current ?? Promise.resolve(undefined);
    const next = previous.catch(() => undefined).then(() => leased(catchUp, wait));
    current = next;
    next.finally(() => current === next && (current = undefined)).catch(() => undefined);
    return next;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      run(false, false)
        .catch((error) => log.error({ event: 'maintenance.failed', err: error }, 'maintenance pass failed'))
        .finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();
  log.info({ event: 'maintenance.started', intervalMs, shared: true }, 'maintenance timer started (one process at a time, by lease)');
  return {
    runNow: (opts = {}) => run(opts.catchUp ?? false, true),
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await worker?.close();
      await current?.catch(() => undefined);
    },
    worker,
  };
}

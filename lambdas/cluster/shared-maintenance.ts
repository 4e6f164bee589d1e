// Maintenance when several server processes share one catalog: every process runs the timer, but a
// pass runs only under the catalog's maintenance lease (the same item the scheduled Lambda takes),
// so exactly one process maintains the indexes at a time. The holder renews the lease while its
// pass runs; a killed holder's lease lapses after leaseMs and another process takes over. A holder
// that fails to renew (stalled past the expiry) stops its pass at the next action.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { MaintenanceLease } from '../adapters/maintenance-lease';
import type { Deps } from '../core/deps';
import type { MaintenanceConfig } from '../maintenance/config';
import { runMaintenanceOnce, startMaintenanceLoop, type MaintenanceLoop, type MaintenanceOptions, type RunReport } from '../maintenance/maintenance';
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
  const leaseMs = options.leaseMs ?? 60_000;
  const pass = options.pass ?? runMaintenanceOnce;
  const lease = new MaintenanceLease(options.client, options.table);

  /** One pass under the lease; an explicit catch-up (runNow) waits until the lease is free, the timer skips. */
  const leased = async (passOptions: MaintenanceOptions, explicit: boolean): Promise<RunReport> => {
    while (!(await lease.acquire(leaseMs))) {
      if (!explicit || passOptions.shouldStop?.()) return skipped();
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
      return await pass(deps, { ...passOptions, shouldStop: () => !!passOptions.shouldStop?.() || lost });
    } finally {
      clearInterval(renewal);
      await lease.release().catch(() => undefined);
    }
  };
  log.info({ event: 'maintenance.shared', leaseMs }, 'maintenance passes run one process at a time, under the catalog lease');
  return startMaintenanceLoop(deps, { config: options.config, intervalMs: options.intervalMs, worker: options.worker, runPass: leased });
}

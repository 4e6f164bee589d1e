// Maintenance when several server processes share one catalog: every process runs the timer, and
// each pass maintains every index under that index's own lease (./leased-pass), so two processes
// can maintain different indexes at once but never the same one. A killed holder's lease lapses
// after leaseMs and another process takes the index over.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Deps } from '../core/deps';
import type { MaintenanceConfig } from '../maintenance/config';
import { startMaintenanceLoop, type MaintenanceLoop } from '../maintenance/maintenance';
import { logger } from '../runtime/logger';
import { leasedMaintenancePass, type MaintainOne } from './leased-pass';

const log = logger.child({ component: 'maintenance' });

export interface SharedMaintenanceOptions {
  client: DynamoDBClient;
  table: string;
  config?: MaintenanceConfig;
  intervalMs?: number;
  /** A dead holder blocks its index this long at most; renewed every third of it. */
  leaseMs?: number;
  worker?: boolean;
  /** One index's maintenance (tests observe it); default maintainIndex. */
  maintain?: MaintainOne;
}

export function startSharedMaintenanceLoop(deps: Pick<Deps, 'catalog' | 'store'>, options: SharedMaintenanceOptions): MaintenanceLoop {
  const leaseMs = options.leaseMs ?? 60_000;
  log.info({ event: 'maintenance.shared', leaseMs }, 'maintenance runs one process at a time per index, under the index lease');
  return startMaintenanceLoop(deps, {
    config: options.config,
    intervalMs: options.intervalMs,
    worker: options.worker,
    runPass: (pass, explicit) => leasedMaintenancePass(deps, { ...pass, client: options.client, table: options.table, leaseMs, explicit, maintain: options.maintain }),
  });
}

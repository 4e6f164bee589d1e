// One maintenance pass of a shared-service process: every index under its own lease (the catalog
// item LEASE#index#<storageId>, a DynamoDB conditional write with an expiry), so processes maintain
// different indexes at the same time and never the same one. An index another process holds is
// skipped by a timer pass; an explicit catch-up (runNow) comes back to it and waits for the lease,
// so when it resolves every index has been maintained after whatever ran before. The holder renews
// its lease while it works; one that finds its lease taken (it stalled past the expiry) stops at
// the next action. The catalog-wide housekeeping (forgotten states, orphaned tables, the state
// table's old versions) runs under a lease of its own, by one process at a time.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { indexLeaseHeld, indexLeaseName, keepRenewed, MaintenanceLease, underLease } from '../adapters/maintenance-lease';
import type { Deps } from '../core/deps';
import type { IndexRecord } from '../core/ports';
import { maintenanceConfigFromEnv } from '../maintenance/config';
import { allIndexes, housekeeping, maintainIndex, type IndexReport, type MaintenanceOptions, type RunReport } from '../maintenance/maintenance';
import { logger } from '../runtime/logger';

const log = logger.child({ component: 'maintenance' });

export const HOUSEKEEPING_LEASE = 'housekeeping';

export type MaintainOne = (deps: Pick<Deps, 'store'>, index: IndexRecord, options: MaintenanceOptions) => Promise<IndexReport>;

export interface LeasedPassOptions extends MaintenanceOptions {
  client: DynamoDBClient;
  table: string;
  leaseMs: number;
  /** runNow: wait for indexes other processes hold instead of skipping them. */
  explicit: boolean;
  /** One index's maintenance (default maintainIndex; tests observe it). */
  maintain?: MaintainOne;
}

const notRun = (index: IndexRecord): IndexReport => ({ bucket: index.bucketName, index: index.name, storageId: index.storageId, outcome: 'idle', actions: [], deferred: [] });

/** Module state like runMaintenanceOnce's: the state table is compacted once per keepVersionsSeconds per process. */

export async function leasedMaintenancePass(deps: Pick<Deps, 'catalog' | 'store'>, o: LeasedPassOptions): Promise<RunReport> {
  const config = o.config ?? maintenanceConfigFromEnv();
  const clock = o.now ?? Date.now;
  const maintain = o.maintain ?? maintainIndex;
  const startedAt = clock();
  const report: RunReport = { startedAt, ms: 0, indexes: [], complete: true };
  const stopping = () => !!o.shouldStop?.() || (o.deadline !== undefined && clock() >= o.deadline);

  /** Maintains `index` if its lease is free (or lapsed); undefined when another process holds it. */
  const tryIndex = async (index: IndexRecord): Promise<IndexReport | undefined> => {
    const lease = new MaintenanceLease(o.client, o.table, { name: indexLeaseName(index.storageId) });
    if (!(await lease.acquire(o.leaseMs))) return undefined;
    let lost = false;
    const stopRenewing = keepRenewed(lease, o.leaseMs, () => {
      lost = true;
      log.warn({ event: 'maintenance.lease-lost', storageId: index.storageId }, 'index maintenance lease taken over by another process: stopping this index');
    });
    try {
      return await maintain(deps, index, { ...o, config, shouldStop: () => !!o.shouldStop?.() || lost });
    } catch (error) {
      log.warn({ event: 'maintenance.failed', storageId: index.storageId, err: error }, 'index maintenance failed');
      return { ...notRun(index), outcome: 'failed' };
    } finally {
      stopRenewing();
      await lease.release().catch(() => undefined);
    }
  };
  const record = (index: IndexRecord, result: IndexReport) => {
    report.indexes.push(result);
    if (result.deferred.length || result.outcome === 'failed') report.complete = false;
  };

  const seen = new Set<string>();
  const held: IndexRecord[] = [];
  for await (const index of allIndexes(deps)) {
    seen.add(index.storageId);
    if (stopping()) {
      report.complete = false;
      break;
    }
    const result = await tryIndex(index);
    if (result) record(index, result);
    else held.push(index);
  }
  for (const index of held) {
    let result: IndexReport | undefined;
    while (o.explicit && !stopping() && !(result = await tryIndex(index))) await new Promise((r) => setTimeout(r, Math.min(1000, o.leaseMs / 4)));
    // A timer pass leaves it to its holder; it is looked at, so the housekeeping below may run.
    record(index, result ?? notRun(index));
    if (!result && o.explicit) report.complete = false;
  }

  await underLease(new MaintenanceLease(o.client, o.table, { name: HOUSEKEEPING_LEASE }), o.leaseMs, () =>
    housekeeping(deps, seen, report.complete, config, clock, indexLeaseHeld(o.client, o.table)),
  ).catch((error) => log.warn({ event: 'maintenance.state-failed', err: error }, 'housekeeping lease unavailable'));

  report.ms = clock() - startedAt;
  const busy = report.indexes.filter((i) => i.outcome !== 'idle' && i.outcome !== 'empty');
  if (busy.length) log.info({ event: 'maintenance.run', indexes: report.indexes.length, maintained: busy.length, complete: report.complete, ms: Math.round(report.ms) }, 'maintenance pass');
  return report;
}

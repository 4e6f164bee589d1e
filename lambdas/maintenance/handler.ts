// The scheduled maintenance Lambda (EventBridge): one pass over every index within the function's
// time budget. Actions that would not fit are deferred to the next invocation; one that is cut off
// anyway (timeout) commits nothing, so the index keeps its last version.
import type { Context } from 'aws-lambda';
import { MaintenanceLease, underLease } from '../adapters/maintenance-lease';
import { depsFromEnv, settingsFromEnv } from '../runtime/deps';
import { maintenanceConfigFromEnv } from './config';
import { runMaintenanceOnce, type RunReport } from './maintenance';

/** Time kept back from the Lambda's budget for recording state and returning. */
const SAFETY_MS = 20_000;
/** Without a context (a manual invoke in tests), assume Lambda's 15-minute maximum. */
const DEFAULT_BUDGET_MS = 15 * 60 * 1000;

/** A lease outlives the run that took it by this much (the run cannot outlive its Lambda timeout). */
const LEASE_MARGIN_MS = 60_000;

type Summary = Omit<RunReport, 'indexes'> & { indexes: unknown[] };

export async function handler(_event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<Summary | { skipped: string }> {
  const deps = await depsFromEnv();
  const budget = context?.getRemainingTimeInMillis?.() ?? DEFAULT_BUDGET_MS;
  // Overlapping runs (a slow run and the next schedule, a manual invoke) take turns: the second skips.
  const settings = settingsFromEnv();
  const lease = new MaintenanceLease(settings.dynamo, settings.table);
  const report = await underLease(lease, budget + LEASE_MARGIN_MS, () =>
    runMaintenanceOnce(deps, {
      config: maintenanceConfigFromEnv(),
      deadline: Date.now() + Math.max(0, budget - Math.min(SAFETY_MS, budget * 0.2)),
    }),
  );
  if (!report) return { skipped: 'another maintenance run holds the lease' };
  // A compact summary as the invocation result (the details are in the structured log lines).
  return {
    ...report,
    indexes: report.indexes
      .filter((i) => i.outcome !== 'idle' && i.outcome !== 'empty')
      .map((i) => ({ index: `${i.bucket}/${i.index}`, outcome: i.outcome, actions: i.actions.map((a) => a.kind), deferred: i.deferred })),
  };
}

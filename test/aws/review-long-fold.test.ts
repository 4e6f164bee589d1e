// Review (review-aws): issue 13 finding 4 asks that large maintenance finish rather than be
// deferred forever. The scheduled run hands an action to the Fargate job only when it is the ANN
// build ('vector-index'). An index whose ANN index is fresh but whose fold of new rows ('optimize':
// unindexed rows × dimension) or scalar index build ('key-index', 'tokens-index') exceeds a whole
// run's budget is deferred by every run, forever: its new rows are never indexed.
import { vectorIndexOf } from '../../lambdas/adapters/lance/index-stats';
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { DEFAULT_MAINTENANCE_CONFIG, type MaintenanceConfig } from '../../lambdas/maintenance/config';
import { runScheduled } from '../../lambdas/maintenance/handler';
import { indexRecord, putAll, rows } from '../maintenance/helpers';
import { stubLauncher, useScheduledHarness } from './scheduled-harness';

const DIM = 8;
const h = useScheduledHarness('review-long-fold');

const config = (buildFloatsPerSecond: number): MaintenanceConfig => ({ ...DEFAULT_MAINTENANCE_CONFIG, annMinRows: 256, foldMinRows: 100, buildFloatsPerSecond });
const BUDGET_MS = 60_000;

it('a fold of new rows too long for any run is handed to the job, not deferred by every run', async () => {
  const store = h.deps.store as LanceVectorStore;
  const index = { ...indexRecord('idx', DIM), bucketName: 'fold', arn: 'arn:aws:s3vectors:us-east-1:123456789012:bucket/fold/index/idx' };
  await h.deps.catalog.createBucket({ name: 'fold', arn: 'arn:aws:s3vectors:us-east-1:123456789012:bucket/fold', creationTime: 0, encryption: { sseType: 'AES256' }, defaultIndexMode: 'ENHANCED', tags: {} } as never);
  await h.deps.catalog.createIndex(index);
  await putAll(store, index, rows('k', 0, 300, DIM, 1));
  // A fast machine builds the ANN index within one run.
  await runScheduled(h.deps, h.settings, { budgetMs: BUDGET_MS, config: config(1e9), launcher: stubLauncher() });
  expect(vectorIndexOf((await store.tableStats(index))!)).toBeDefined();
  // New rows (fewer than the retrain growth): only a fold is due; on this index it outlasts any run.
  await putAll(store, index, rows('n', 0, 200, DIM, 2));
  const launcher = stubLauncher();
  const runs = [];
  for (let i = 0; i < 2; i++) runs.push((await runScheduled(h.deps, h.settings, { budgetMs: BUDGET_MS, config: config(1), launcher })) as { indexes: { deferred: string[] }[] });
  // Observed: both runs defer 'optimize' and start no job.
  const deferred = runs.map((r) => r.indexes.flatMap((i) => i.deferred));
  expect({ deferred, jobs: launcher.requests.length }).toEqual({ deferred: [['optimize'], []], jobs: 1 });
});

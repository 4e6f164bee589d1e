// Review (review-aws): issue 13 finding 4 asks that large maintenance finish rather than be
// deferred forever. The scheduled run hands an action to the Fargate job only when it is the ANN
// build ('vector-index'). An index whose ANN index is fresh but whose fold of new rows ('optimize':
// unindexed rows × dimension) or scalar index build ('key-index', 'tokens-index') exceeds a whole
// run's budget is deferred by every run, forever: its new rows are never indexed.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoCatalog } from '../../lambdas/adapters/dynamo-catalog';
import { vectorIndexOf } from '../../lambdas/adapters/lance/index-stats';
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { serviceConfigFromEnv } from '../../lambdas/core/config';
import type { Deps } from '../../lambdas/core/deps';
import { startDynalite, type EmbeddedDynamo } from '../../lambdas/local/dynalite';
import { DEFAULT_MAINTENANCE_CONFIG, type MaintenanceConfig } from '../../lambdas/maintenance/config';
import { runScheduled } from '../../lambdas/maintenance/handler';
import type { JobLauncher, JobRequest } from '../../lambdas/maintenance/job-launcher';
import { createDeps, type RuntimeSettings } from '../../lambdas/runtime/deps';
import { indexRecord, putAll, rows } from '../maintenance/helpers';

const TABLE = 'review-long-fold';
const DIM = 8;
let dynamo: EmbeddedDynamo;
let client: DynamoDBClient;
let dataDir: string;
let settings: RuntimeSettings;
let deps: Deps;

beforeAll(async () => {
  dynamo = await startDynalite();
  client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await new DynamoCatalog(client, TABLE).ensureTable();
  dataDir = mkdtempSync(join(tmpdir(), 'review-long-fold-'));
  settings = {
    config: serviceConfigFromEnv({ S3V_REGION: 'us-east-1', S3V_ACCOUNT_ID: '123456789012' }),
    table: TABLE,
    dynamo: client,
    storage: { uri: join(dataDir, 'vectors'), readConsistencySeconds: 0 },
  };
  deps = createDeps(settings);
});
afterAll(async () => {
  client.destroy();
  await dynamo.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const config = (buildFloatsPerSecond: number): MaintenanceConfig => ({ ...DEFAULT_MAINTENANCE_CONFIG, annMinRows: 256, foldMinRows: 100, buildFloatsPerSecond });
const BUDGET_MS = 60_000;

function stubLauncher(): JobLauncher & { requests: JobRequest[] } {
  const requests: JobRequest[] = [];
  return { requests, start: async (request) => (requests.push(request), `arn:aws:ecs:us-east-1:123456789012:task/cluster/${requests.length}`) };
}

it('a fold of new rows too long for any run is handed to the job, not deferred by every run', async () => {
  const store = deps.store as LanceVectorStore;
  const index = { ...indexRecord('idx', DIM), bucketName: 'fold', arn: 'arn:aws:s3vectors:us-east-1:123456789012:bucket/fold/index/idx' };
  await deps.catalog.createBucket({ name: 'fold', arn: 'arn:aws:s3vectors:us-east-1:123456789012:bucket/fold', creationTime: 0, encryption: { sseType: 'AES256' }, defaultIndexMode: 'ENHANCED', tags: {} } as never);
  await deps.catalog.createIndex(index);
  await putAll(store, index, rows('k', 0, 300, DIM, 1));
  // A fast machine builds the ANN index within one run.
  await runScheduled(deps, settings, { budgetMs: BUDGET_MS, config: config(1e9), launcher: stubLauncher() });
  expect(vectorIndexOf((await store.tableStats(index))!)).toBeDefined();
  // New rows (fewer than the retrain growth): only a fold is due; on this index it outlasts any run.
  await putAll(store, index, rows('n', 0, 200, DIM, 2));
  const launcher = stubLauncher();
  const runs = [];
  for (let i = 0; i < 2; i++) runs.push((await runScheduled(deps, settings, { budgetMs: BUDGET_MS, config: config(1), launcher })) as { indexes: { deferred: string[] }[] });
  // Observed: both runs defer 'optimize' and start no job.
  const deferred = runs.map((r) => r.indexes.flatMap((i) => i.deferred));
  expect({ deferred, jobs: launcher.requests.length }).toEqual({ deferred: [['optimize'], []], jobs: 1 });
});

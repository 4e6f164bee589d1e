// The orphan sweep and a build job of an index deleted meanwhile (issue 13): the sweep leaves a table
// alone while its index lease (LEASE#index#<storageId>) is held, and the job, finding its index gone,
// removes what its build committed and ends with outcome 'gone'. Real dynalite, real LanceDB tables
// in a temp dir, the job's entry (runJob) and the scheduled handler (runScheduled) in process.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoCatalog } from '../../lambdas/adapters/dynamo-catalog';
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { indexLeaseHeld } from '../../lambdas/adapters/maintenance-lease';
import { leasedMaintenancePass } from '../../lambdas/cluster/leased-pass';
import { serviceConfigFromEnv } from '../../lambdas/core/config';
import type { Deps } from '../../lambdas/core/deps';
import type { IndexRecord } from '../../lambdas/core/ports';
import { startDynalite, type EmbeddedDynamo } from '../../lambdas/local/dynalite';
import { DEFAULT_MAINTENANCE_CONFIG } from '../../lambdas/maintenance/config';
import { runScheduled } from '../../lambdas/maintenance/handler';
import { runJob } from '../../lambdas/maintenance/job';
import { indexLease, jobEnvironment } from '../../lambdas/maintenance/job-launcher';
import { sweepOrphans } from '../../lambdas/maintenance/orphans';
import { createDeps, type RuntimeSettings } from '../../lambdas/runtime/deps';
import { putAll, rows } from '../maintenance/helpers';

jest.setTimeout(120_000);

const TABLE = 'orphan-lease-test';
const DIM = 8;
let dynamo: EmbeddedDynamo;
let client: DynamoDBClient;
let dataDir: string;
let settings: RuntimeSettings;
let deps: Deps;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dynamo = await startDynalite();
  client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await new DynamoCatalog(client, TABLE).ensureTable();
  dataDir = mkdtempSync(join(tmpdir(), 'orphan-lease-'));
  env = { ...process.env, S3V_MAINT_ANN_MIN_ROWS: '256', S3V_REGION: 'us-east-1', S3V_ACCOUNT_ID: '123456789012' };
  settings = {
    config: serviceConfigFromEnv({ S3V_REGION: 'us-east-1', S3V_ACCOUNT_ID: '123456789012' }),
    table: TABLE,
    dynamo: client,
    storage: { uri: join(dataDir, 'vectors'), readConsistencySeconds: 0 },
  };
  deps = createDeps(settings);
});
afterAll(async () => {
  await deps?.store.close();
  client?.destroy();
  await dynamo?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const store = () => deps.store as LanceVectorStore;
const config = { ...DEFAULT_MAINTENANCE_CONFIG, annMinRows: 256, buildFloatsPerSecond: 1e9 };
let n = 0;

/** A bucket with one index of 300 rows (past the ANN threshold), in the catalog and in Lance. */
async function seededIndex(): Promise<IndexRecord> {
  const bucket = `orphans-${++n}`;
  const index: IndexRecord = {
    bucketName: bucket,
    name: 'idx',
    arn: `arn:aws:s3vectors:us-east-1:123456789012:bucket/${bucket}/index/idx`,
    creationTime: 0,
    dataType: 'float32',
    dimension: DIM,
    distanceMetric: 'euclidean',
    nonFilterableMetadataKeys: [],
    encryption: { sseType: 'AES256' },
    indexMode: 'ENHANCED',
    tags: {},
    // The form CreateIndex gives (the sweep only considers tables named like this).
    storageId: `${bucket}.idx.${randomBytes(6).toString('hex')}`,
  };
  await deps.catalog.createBucket({ name: bucket, arn: `arn:aws:s3vectors:us-east-1:123456789012:bucket/${bucket}`, creationTime: 0, encryption: { sseType: 'AES256' }, defaultIndexMode: 'ENHANCED', tags: {} });
  await deps.catalog.createIndex(index);
  await putAll(store(), index, rows('k', 0, 300, DIM, n));
  return index;
}

const tables = () => store().tableIds();
const leaseItem = async (storageId: string) =>
  (await client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `LEASE#index#${storageId}` }, sk: { S: '-' } }, ConsistentRead: true }))).Item;

/** The job's deps: the real store, with `during` run when the job starts its ANN build (before it). */
function buildHook(during: () => Promise<void>): Deps {
  const real = store();
  const hooked = new Proxy(real, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property !== 'createVectorIndex' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        await during();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { ...deps, store: hooked };
}

test('deleted while its job builds (the drop before the build commits): the sweep leaves the table to the job, which removes it and ends gone', async () => {
  const index = await seededIndex();
  const holder = 'job-holder-1';
  // The scheduled run took the lease for the job under the job's holder id.
  expect(await indexLease(client, TABLE, index.storageId, holder).acquire(60_000)).toBe(true);
  let sweptDuringBuild: string[] | undefined;
  const jobDeps = buildHook(async () => {
    // DeleteIndex's catalog delete lands now; its drop found the table before the build's commit
    // re-created it (modelled by leaving the table in place).
    await deps.catalog.deleteIndex(index.bucketName, index.name);
    // Another runner's housekeeping sweeps now: the table is not in the catalog, but is leased.
    sweptDuringBuild = await sweepOrphans(deps, store(), new Set(), indexLeaseHeld(client, TABLE));
  });
  const result = await runJob({ env: { ...env, ...jobEnvironment({ index, leaseHolder: holder }) }, settings, deps: jobDeps, goneCheckMs: 50 });
  expect(sweptDuringBuild).toEqual([]);
  expect(result).toEqual({ outcome: 'gone' });
  // The job removed its table and gave the lease back.
  expect(await tables()).not.toContain(index.storageId);
  expect(await leaseItem(index.storageId)).toBeUndefined();
});

test('deleted and dropped for real while the job waits to build: the job ends gone (not failed), nothing is left', async () => {
  const index = await seededIndex();
  const holder = 'job-holder-2';
  expect(await indexLease(client, TABLE, index.storageId, holder).acquire(60_000)).toBe(true);
  const jobDeps = buildHook(async () => {
    // The whole DeleteIndex: the record, then the table.
    await deps.catalog.deleteIndex(index.bucketName, index.name);
    await store().dropIndex(index);
  });
  const result = await runJob({ env: { ...env, ...jobEnvironment({ index, leaseHolder: holder }) }, settings, deps: jobDeps, goneCheckMs: 50 });
  expect(result).toEqual({ outcome: 'gone' });
  expect(await tables()).not.toContain(index.storageId);
  expect(await leaseItem(index.storageId)).toBeUndefined();
});

test('the scheduled run and the shared servers’ pass skip a leased orphan, and sweep it once the lease is free', async () => {
  const index = await seededIndex();
  await deps.catalog.deleteIndex(index.bucketName, index.name);
  // Leave only this test's tables in the catalog, so the runs are complete (the sweep needs that).
  for (const b of (await deps.catalog.listBuckets({ limit: 100 })).items) {
    for (const i of (await deps.catalog.listIndexes(b.name, { limit: 100 })).items) await deps.catalog.deleteIndex(b.name, i.name);
  }
  const lease = indexLease(client, TABLE, index.storageId, 'a-running-job');
  expect(await lease.acquire(60_000)).toBe(true);

  await runScheduled(deps, settings, { budgetMs: 60_000, config });
  expect(await tables()).toContain(index.storageId);
  await leasedMaintenancePass(deps, { client, table: TABLE, leaseMs: 5_000, explicit: true, config });
  expect(await tables()).toContain(index.storageId);

  await lease.release();
  await leasedMaintenancePass(deps, { client, table: TABLE, leaseMs: 5_000, explicit: true, config });
  expect(await tables()).not.toContain(index.storageId);
});

test('without a lease the scheduled run sweeps an orphan as before', async () => {
  const index = await seededIndex();
  await deps.catalog.deleteIndex(index.bucketName, index.name);
  await runScheduled(deps, settings, { budgetMs: 60_000, config });
  expect(await tables()).not.toContain(index.storageId);
});

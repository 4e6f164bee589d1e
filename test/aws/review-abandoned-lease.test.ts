// Review (review-aws): the hand-off to the Fargate job was decided from estimates alone. A build
// the estimate says fits, but that does not (a slower machine or store than the calibration), is
// killed with the Lambda at its timeout, commits nothing, and the next hourly run starts it in the
// Lambda again: forever. A killed run leaves the index's lease unreleased (it lapses, never
// deleted); the next run that takes such a lease hands the index to the job instead.
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { vectorIndexOf } from '../../lambdas/adapters/lance/index-stats';
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { DEFAULT_MAINTENANCE_CONFIG, type MaintenanceConfig } from '../../lambdas/maintenance/config';
import type { IndexRecord } from '../../lambdas/core/ports';
import { runScheduled } from '../../lambdas/maintenance/handler';
import { indexRecord, putAll, rows } from '../maintenance/helpers';
import { stubLauncher, useScheduledHarness } from './scheduled-harness';

const DIM = 8;
const h = useScheduledHarness('review-abandoned-lease');
const TABLE = h.table;

const config = (buildFloatsPerSecond: number): MaintenanceConfig => ({ ...DEFAULT_MAINTENANCE_CONFIG, annMinRows: 256, foldMinRows: 100, buildFloatsPerSecond });
const BUDGET_MS = 60_000;


let n = 0;
async function seeded(): Promise<IndexRecord> {
  const store = h.deps.store as LanceVectorStore;
  const bucket = `dead-${++n}`;
  const index = { ...indexRecord('idx', DIM), bucketName: bucket, arn: `arn:aws:s3vectors:us-east-1:123456789012:bucket/${bucket}/index/idx` };
  await h.deps.catalog.createBucket({ name: bucket, arn: `arn:aws:s3vectors:us-east-1:123456789012:bucket/${bucket}`, creationTime: 0, encryption: { sseType: 'AES256' }, defaultIndexMode: 'ENHANCED', tags: {} } as never);
  await h.deps.catalog.createIndex(index);
  await putAll(store, index, rows('k', 0, 300, DIM, n));
  return index;
}
const leaseKey = (index: IndexRecord) => ({ pk: { S: `LEASE#index#${index.storageId}` }, sk: { S: '-' } });
/** What a run killed at its Lambda timeout leaves: its lease on the index, lapsed, never given back. */
const abandon = (index: IndexRecord) =>
  h.client.send(new PutItemCommand({ TableName: TABLE, Item: { ...leaseKey(index), holder: { S: 'a-run-killed-at-its-timeout' }, expiresAt: { N: String(Date.now() - 60_000) } } }));
const hasAnn = async (index: IndexRecord) => vectorIndexOf((await (h.deps.store as LanceVectorStore).tableStats(index))!) !== undefined;
async function onlyIndex(index: IndexRecord): Promise<void> {
  for (const b of (await h.deps.catalog.listBuckets({ limit: 100 })).items) {
    if (b.name === index.bucketName) continue;
    for (const i of (await h.deps.catalog.listIndexes(b.name, { limit: 100 })).items) await h.deps.catalog.deleteIndex(b.name, i.name);
  }
}

it('an index whose previous runner died holding it goes to the job, though the estimate says it fits', async () => {
  const index = await seeded();
  await onlyIndex(index);
  await abandon(index);
  const launcher = stubLauncher();
  await runScheduled(h.deps, h.settings, { budgetMs: BUDGET_MS, config: config(1e9), launcher });
  expect(launcher.requests.map((r) => r.index.storageId)).toEqual([index.storageId]);
  expect(await hasAnn(index)).toBe(false);
  const item = (await h.client.send(new GetItemCommand({ TableName: TABLE, Key: leaseKey(index), ConsistentRead: true }))).Item;
  expect(item?.holder?.S).toBe(launcher.requests[0].leaseHolder);
});

it('a lease given back (a run that finished) or no job in the stack: maintained in the run as before', async () => {
  const index = await seeded();
  await onlyIndex(index);
  const launcher = stubLauncher();
  await runScheduled(h.deps, h.settings, { budgetMs: BUDGET_MS, config: config(1e9), launcher });
  expect(launcher.requests).toEqual([]);
  expect(await hasAnn(index)).toBe(true);
  const other = await seeded();
  await onlyIndex(other);
  await abandon(other);
  await runScheduled(h.deps, h.settings, { budgetMs: BUDGET_MS, config: config(1e9) });
  expect(await hasAnn(other)).toBe(true);
});

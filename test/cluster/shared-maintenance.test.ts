// Maintenance on several processes sharing one catalog: each index is maintained under its own lease
// (LEASE#index#<storageId>), so one index never has two runners at once while different indexes are
// maintained by different processes at the same time; a killed holder's lease lapses and another
// process takes the index over. Each "process" here has its own DynamoDB client and loop on a real
// dynalite and catalog; the per-index work is observed (how many run at once, per index and overall).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoCatalog } from '../../lambdas/adapters/dynamo-catalog';
import { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { indexLeaseName, MaintenanceLease } from '../../lambdas/adapters/maintenance-lease';
import type { IndexRecord } from '../../lambdas/core/ports';
import type { MaintainOne } from '../../lambdas/cluster/leased-pass';
import { startSharedMaintenanceLoop } from '../../lambdas/cluster/shared-maintenance';
import { startDynalite, type EmbeddedDynamo } from '../../lambdas/local/dynalite';
import type { MaintenanceLoop } from '../../lambdas/maintenance/maintenance';

jest.setTimeout(120_000);

const TABLE = 'catalog';
let dynamo: EmbeddedDynamo;
let dir: string;
const clients: DynamoDBClient[] = [];
const loops: MaintenanceLoop[] = [];
const indexes: IndexRecord[] = [];

const client = () => {
  const c = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  clients.push(c);
  return c;
};

const indexRecord = (name: string): IndexRecord => ({
  bucketName: 'bkt',
  name,
  arn: `arn:aws:s3vectors:us-east-1:000000000000:bucket/bkt/index/${name}`,
  creationTime: 1,
  dataType: 'float32',
  dimension: 4,
  distanceMetric: 'cosine',
  nonFilterableMetadataKeys: [],
  encryption: { sseType: 'AES256' },
  indexMode: 'CLASSIC',
  tags: {},
  storageId: `bkt.${name}.0123456789ab`,
});

beforeAll(async () => {
  dynamo = await startDynalite();
  dir = mkdtempSync(join(tmpdir(), 's3v-shared-maint-'));
  const catalog = new DynamoCatalog(client(), TABLE);
  await catalog.ensureTable();
  await catalog.createBucket({ name: 'bkt', arn: 'arn:aws:s3vectors:us-east-1:000000000000:bucket/bkt', creationTime: 1, encryption: { sseType: 'AES256' }, defaultIndexMode: 'CLASSIC', tags: {} });
  for (const name of ['one', 'two']) {
    indexes.push(indexRecord(name));
    await catalog.createIndex(indexRecord(name));
  }
});
afterAll(async () => {
  await Promise.all(loops.map((l) => l.stop()));
  clients.forEach((c) => c.destroy());
  await dynamo.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Per-index work that takes `ms` and counts how many run at once, per index and overall. With
 * `awaitOther`, each run then waits (up to that long) for a second run to be going at the same time:
 * a loaded machine may start the second process's pass only after a fixed `ms`, and a regression
 * that serialises the processes still never gets two at once (it waits the whole time in vain).
 */
function observed(ms: number, awaitOther = 0) {
  const seen = { active: new Map<string, number>(), maxPerIndex: 0, total: 0, maxTotal: 0, runs: [] as string[] };
  const maintain = (process: string): MaintainOne => async (_deps, index) => {
    const now = (seen.active.get(index.name) ?? 0) + 1;
    seen.active.set(index.name, now);
    seen.maxPerIndex = Math.max(seen.maxPerIndex, now);
    seen.maxTotal = Math.max(seen.maxTotal, ++seen.total);
    seen.runs.push(`${process}:${index.name}`);
    await new Promise((r) => setTimeout(r, ms));
    for (const until = Date.now() + awaitOther; seen.maxTotal < 2 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
    seen.active.set(index.name, seen.active.get(index.name)! - 1);
    seen.total--;
    return { bucket: index.bucketName, index: index.name, storageId: index.storageId, outcome: 'ok', actions: [], deferred: [] };
  };
  return { seen, maintain };
}

function loop(name: string, maintain: MaintainOne, options: { intervalMs?: number; leaseMs?: number } = {}): MaintenanceLoop {
  const store = new LanceVectorStore({ uri: join(dir, name) });
  const l = startSharedMaintenanceLoop({ catalog: new DynamoCatalog(client(), TABLE), store }, { client: client(), table: TABLE, worker: false, intervalMs: options.intervalMs ?? 3_600_000, leaseMs: options.leaseMs, maintain });
  loops.push(l);
  return l;
}

test('two processes catching up at once maintain the two indexes side by side, never one index twice at once', async () => {
  const { seen, maintain } = observed(400, 10_000);
  const a = loop('a', maintain('a'));
  const b = loop('b', maintain('b'));
  await Promise.all([a.runNow({ catchUp: true }), b.runNow({ catchUp: true })]);
  expect(seen.maxPerIndex).toBe(1);
  // One lease for the whole catalog would keep this at 1.
  expect(seen.maxTotal).toBe(2);
  // Each caught up every index (waiting for the other's lease where it had to).
  expect(seen.runs.sort()).toEqual(['a:one', 'a:two', 'b:one', 'b:two']);
  await Promise.all([a.stop(), b.stop()]);
});

test('timer passes on three processes never maintain one index twice at once', async () => {
  const { seen, maintain } = observed(120);
  const ls = ['p', 'q', 'r'].map((n) => loop(n, maintain(n), { intervalMs: 40 }));
  // At least 3 s of passes, and on until there were enough of them (a loaded machine runs fewer).
  const started = Date.now();
  while (Date.now() - started < 3000 || (seen.runs.length <= 6 && Date.now() - started < 60_000)) await new Promise((r) => setTimeout(r, 100));
  await Promise.all(ls.map((l) => l.stop()));
  expect(seen.runs.length).toBeGreaterThan(6);
  expect(seen.maxPerIndex).toBe(1);
  expect(new Set(seen.runs.map((r) => r.split(':')[1]))).toEqual(new Set(['one', 'two']));
});

test("a killed holder's index lease lapses: another process maintains that index after the expiry, the other at once", async () => {
  // A holder that took index one's lease and died (never released it).
  const dead = new MaintenanceLease(client(), TABLE, { name: indexLeaseName(indexes[0].storageId) });
  const acquiredAt = Date.now();
  expect(await dead.acquire(1500)).toBe(true);
  const { seen, maintain } = observed(10);
  const times: Record<string, number> = {};
  const l = loop('after-kill', async (deps, index, options) => {
    times[index.name] = Date.now();
    return maintain('after-kill')(deps, index, options);
  }, { leaseMs: 1500 });
  await l.runNow({ catchUp: true });
  expect(seen.runs.sort()).toEqual(['after-kill:one', 'after-kill:two']);
  // One only once the dead holder's lease expired (it expires 1.5 s after it was taken); two without
  // waiting for that. Compared with the lease's own times, not with a fixed wall-clock bound (a
  // loaded machine's set-up ate into "1 s after the start" before).
  expect(times.one).toBeGreaterThanOrEqual(acquiredAt + 1500);
  expect(times.two).toBeLessThan(times.one);
  await l.stop();
});

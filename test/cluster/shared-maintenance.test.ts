// Maintenance on several processes sharing one catalog: passes run only under the catalog's lease,
// so two never overlap; a killed holder's lease lapses and another process takes over. Each "process"
// here has its own DynamoDB client and loop on a real dynalite; the pass records overlaps.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoCatalog } from '../../lambdas/adapters/dynamo-catalog';
import { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { MaintenanceLease } from '../../lambdas/adapters/maintenance-lease';
import { startSharedMaintenanceLoop } from '../../lambdas/cluster/shared-maintenance';
import { startDynalite, type EmbeddedDynamo } from '../../lambdas/local/dynalite';
import type { MaintenanceLoop, RunReport } from '../../lambdas/maintenance/maintenance';

const TABLE = 'catalog';
let dynamo: EmbeddedDynamo;
let dir: string;
const clients: DynamoDBClient[] = [];
const loops: MaintenanceLoop[] = [];

const client = () => {
  const c = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  clients.push(c);
  return c;
};

beforeAll(async () => {
  dynamo = await startDynalite();
  dir = mkdtempSync(join(tmpdir(), 's3v-shared-maint-'));
  await new DynamoCatalog(client(), TABLE).ensureTable();
});
afterAll(async () => {
  await Promise.all(loops.map((l) => l.stop()));
  clients.forEach((c) => c.destroy());
  await dynamo.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A pass that takes `ms` and counts how many run at once. */
function observedPass(ms: number) {
  const seen = { active: 0, maxActive: 0, runs: [] as string[] };
  const pass = (name: string) => async (): Promise<RunReport> => {
    seen.active++;
    seen.maxActive = Math.max(seen.maxActive, seen.active);
    seen.runs.push(name);
    await new Promise((r) => setTimeout(r, ms));
    seen.active--;
    return { startedAt: Date.now(), ms, indexes: [], complete: true };
  };
  return { seen, pass };
}

function loop(name: string, pass: () => Promise<RunReport>, options: { intervalMs?: number; leaseMs?: number } = {}): MaintenanceLoop {
  const store = new LanceVectorStore({ uri: join(dir, name) });
  const l = startSharedMaintenanceLoop({ catalog: new DynamoCatalog(client(), TABLE), store }, { client: client(), table: TABLE, worker: false, intervalMs: options.intervalMs ?? 3_600_000, leaseMs: options.leaseMs, pass });
  loops.push(l);
  return l;
}

test('two processes asked to maintain at once run one after the other, never together', async () => {
  const { seen, pass } = observedPass(300);
  const a = loop('a', pass('a'));
  const b = loop('b', pass('b'));
  await Promise.all([a.runNow({ catchUp: true }), b.runNow({ catchUp: true }), a.runNow({ catchUp: true }), b.runNow({ catchUp: true })]);
  expect(seen.maxActive).toBe(1);
  expect(seen.runs.sort()).toEqual(['a', 'a', 'b', 'b']);
  await Promise.all([a.stop(), b.stop()]);
});

test('timer passes on three processes never overlap', async () => {
  const { seen, pass } = observedPass(120);
  const ls = ['p', 'q', 'r'].map((n) => loop(n, pass(n), { intervalMs: 40 }));
  await new Promise((r) => setTimeout(r, 3000));
  await Promise.all(ls.map((l) => l.stop()));
  expect(seen.runs.length).toBeGreaterThan(3);
  expect(seen.maxActive).toBe(1);
});

test("a killed holder's lease lapses: another process maintains after the expiry", async () => {
  // A holder that took the lease and died (never released it).
  const dead = new MaintenanceLease(client(), TABLE);
  expect(await dead.acquire(1500)).toBe(true);
  const { seen, pass } = observedPass(10);
  const l = loop('after-kill', pass('after-kill'), { leaseMs: 1500 });
  const started = Date.now();
  await l.runNow({ catchUp: true });
  expect(seen.runs).toEqual(['after-kill']);
  expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  await l.stop();
});

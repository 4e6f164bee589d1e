// The optimize Lambda's lease: real DynamoDB protocol (dynalite), real conditional writes; the
// scheduled handler itself skips while another run holds it.
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoCatalog } from '../../lambdas/adapters/dynamo-catalog';
import { MaintenanceLease, underLease } from '../../lambdas/adapters/maintenance-lease';
import { startDynalite, type EmbeddedDynamo } from '../../lambdas/local/dynalite';

const TABLE = 'lease-test-catalog';
let dynamo: EmbeddedDynamo;
let client: DynamoDBClient;
let dataDir: string;

beforeAll(async () => {
  dynamo = await startDynalite();
  client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await new DynamoCatalog(client, TABLE).ensureTable();
  dataDir = mkdtempSync(join(tmpdir(), 'lease-'));
});
afterAll(async () => {
  client.destroy();
  await dynamo.close();
  rmSync(dataDir, { recursive: true, force: true });
});

let n = 0;
const leaseName = () => `test-${++n}`;

describe('maintenance lease', () => {
  it('one holder at a time; given back by its holder only', async () => {
    const name = leaseName();
    const a = new MaintenanceLease(client, TABLE, { name, holder: 'a' });
    const b = new MaintenanceLease(client, TABLE, { name, holder: 'b' });
    expect(await a.acquire(60_000)).toBe(true);
    expect(await b.acquire(60_000)).toBe(false);
    await b.release(); // not b's: a keeps it
    expect(await b.acquire(60_000)).toBe(false);
    await a.release();
    expect(await b.acquire(60_000)).toBe(true);
    const item = await client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `LEASE#${name}` }, sk: { S: '-' } } }));
    expect(item.Item?.holder?.S).toBe('b');
    expect(Number(item.Item?.ttl?.N)).toBeGreaterThan(Date.now() / 1000);
  });

  it('a lease left by a run that died is taken over once it expires', async () => {
    const name = leaseName();
    let now = Date.parse('2026-12-01T10:00:00Z');
    const clock = () => now;
    const dead = new MaintenanceLease(client, TABLE, { name, holder: 'dead', now: clock });
    const next = new MaintenanceLease(client, TABLE, { name, holder: 'next', now: clock });
    expect(await dead.acquire(16 * 60_000)).toBe(true);
    now += 15 * 60_000;
    expect(await next.acquire(16 * 60_000)).toBe(false);
    now += 61_000;
    expect(await next.acquire(16 * 60_000)).toBe(true);
    // The dead run's late release does not free the new holder's lease.
    await dead.release();
    expect(await dead.acquire(60_000)).toBe(false);
  });

  it('of many runs starting at once, exactly one gets the lease', async () => {
    const name = leaseName();
    const leases = Array.from({ length: 8 }, (_, i) => new MaintenanceLease(client, TABLE, { name, holder: `h${i}` }));
    const won = await Promise.all(leases.map((l) => l.acquire(60_000)));
    expect(won.filter(Boolean)).toHaveLength(1);
  });

  it('underLease runs the work once for overlapping callers and releases after it, even on failure', async () => {
    const name = leaseName();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let running = false;
    const first = underLease(new MaintenanceLease(client, TABLE, { name }), 60_000, async () => ((running = true), await gate, 'ran'));
    // Until the first holds the lease and runs (a fixed sleep lost that race on a loaded machine).
    const until = Date.now() + 30_000;
    while (!running && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(running).toBe(true);
    expect(await underLease(new MaintenanceLease(client, TABLE, { name }), 60_000, async () => 'ran too')).toBeUndefined();
    release();
    expect(await first).toBe('ran');
    await expect(underLease(new MaintenanceLease(client, TABLE, { name }), 60_000, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await underLease(new MaintenanceLease(client, TABLE, { name }), 60_000, async () => 'free again')).toBe('free again');
  });

  it('the scheduled handler skips while another run holds the lease, and runs once it is free', async () => {
    Object.assign(process.env, {
      S3V_TABLE: TABLE,
      S3V_DYNAMODB_ENDPOINT: dynamo.endpoint,
      S3V_STORAGE_URI: join(dataDir, 'vectors'),
      S3V_REGION: 'us-east-1',
      S3V_ACCOUNT_ID: '123456789012',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    const { handler } = await import('../../lambdas/maintenance/handler');
    const other = new MaintenanceLease(client, TABLE, { holder: 'another-run' });
    expect(await other.acquire(15 * 60_000)).toBe(true);
    const context = { getRemainingTimeInMillis: () => 60_000 };
    expect(await handler({}, context)).toEqual({ skipped: 'another maintenance run holds the lease' });
    await other.release();
    const ran = await handler({}, context);
    expect(ran).not.toHaveProperty('skipped');
    expect(ran).toHaveProperty('indexes');
    // It gave the lease back.
    expect(await other.acquire(60_000)).toBe(true);
  });
});

// Review (review-aws): the Fargate job must stop believing it holds the index's lease before the
// lease can lapse to another runner (a later optimize run that would then maintain, or hand to a
// second job, the same index). Here its DynamoDB renewals stop getting answers (a black-holed
// connection: the SDK has no request timeout by default): the renewal never settles, so neither
// "lost" nor the 90% check on errors ever ran, and the job kept building without a lease.
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoCatalog } from '../../lambdas/adapters/dynamo-catalog';
import { indexLeaseName, MaintenanceLease } from '../../lambdas/adapters/maintenance-lease';
import { serviceConfigFromEnv } from '../../lambdas/core/config';
import type { Deps } from '../../lambdas/core/deps';
import { startDynalite, type EmbeddedDynamo } from '../../lambdas/local/dynalite';
import { jobEnvironment } from '../../lambdas/maintenance/job-launcher';
import { runJob } from '../../lambdas/maintenance/job';
import { createDeps, type RuntimeSettings } from '../../lambdas/runtime/deps';
import { indexRecord } from '../maintenance/helpers';

const TABLE = 'review-job-renewal';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
let dynamo: EmbeddedDynamo;
let client: DynamoDBClient;
let dataDir: string;

/** A TCP proxy to dynalite that can black-hole its traffic (bytes dropped both ways, sockets kept). */
async function blackholeProxy(target: URL): Promise<{ endpoint: string; blackhole(on: boolean): void; close(): void }> {
  let dropping = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(Number(target.port), target.hostname);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    inbound.on('data', (d) => dropping || outbound.write(d));
    outbound.on('data', (d) => dropping || inbound.write(d));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    blackhole: (on) => (dropping = on),
    close: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

beforeAll(async () => {
  dynamo = await startDynalite();
  client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials });
  await new DynamoCatalog(client, TABLE).ensureTable();
  dataDir = mkdtempSync(join(tmpdir(), 'review-job-'));
});
afterAll(async () => {
  client.destroy();
  await dynamo.close();
  rmSync(dataDir, { recursive: true, force: true });
});

it('a job whose lease renewals get no answer stops before its lease can pass to another runner', async () => {
  const proxy = await blackholeProxy(new URL(dynamo.endpoint));
  const jobClient = new DynamoDBClient({ endpoint: proxy.endpoint, region: 'us-east-1', credentials });
  const settings: RuntimeSettings = {
    config: serviceConfigFromEnv({ S3V_REGION: 'us-east-1', S3V_ACCOUNT_ID: '123456789012' }),
    table: TABLE,
    dynamo: jobClient,
    storage: { uri: join(dataDir, 'vectors'), readConsistencySeconds: 0 },
  };
  const index = { ...indexRecord('idx', 8), bucketName: 'b' };
  let lostAt: number | undefined;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  // The job "builds" (its catalog read waits) until it is told the lease is lost, then finds no index.
  const deps = { ...createDeps(settings), catalog: { getIndex: async () => (await gate, undefined) } } as unknown as Deps;
  const leaseMs = 2_000;
  const running = runJob({ env: { ...process.env, ...jobEnvironment({ index, leaseHolder: 'the-job' }) }, settings, deps, leaseMs, onLeaseLost: () => ((lostAt ??= Date.now()), release()) });
  const other = new MaintenanceLease(client, TABLE, { name: indexLeaseName(index.storageId), holder: 'a-later-run' });
  try {
    // The job has taken its lease (polled: a fixed 150 ms sleep raced the job's start on a loaded
    // machine); then its connection to DynamoDB goes silent.
    const key = { pk: { S: `LEASE#${indexLeaseName(index.storageId)}` }, sk: { S: '-' } };
    const held = Date.now() + 30_000;
    while ((await client.send(new GetItemCommand({ TableName: TABLE, Key: key, ConsistentRead: true }))).Item?.holder?.S !== 'the-job') {
      if (Date.now() > held) throw new Error('the job never took its lease');
      await new Promise((r) => setTimeout(r, 20));
    }
    proxy.blackhole(true);
    let takenAt: number | undefined;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && takenAt === undefined) {
      if (await other.acquire(60_000)) takenAt = Date.now();
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(takenAt).toBeDefined();
    expect(lostAt).toBeDefined();
    expect(lostAt!).toBeLessThanOrEqual(takenAt!);
  } finally {
    release();
    proxy.blackhole(false);
    jobClient.destroy();
    proxy.close();
    await running.catch(() => undefined);
  }
}, 30_000);

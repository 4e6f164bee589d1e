// Review (review-aws): a holder whose lease renewals fail (DynamoDB unreachable from it, throttled,
// erroring) must learn it lost the lease before another runner can take the lapsed lease over:
// otherwise both maintain the same index at once. keepRenewed (cluster mode's per-index lease)
// swallowed renewal errors, so `onLost` never ran while the lease lapsed and passed to another.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { DynamoCatalog } from '../../lambdas/adapters/dynamo-catalog';
import { keepRenewed, MaintenanceLease } from '../../lambdas/adapters/maintenance-lease';
import { startDynalite, type EmbeddedDynamo } from '../../lambdas/local/dynalite';

const TABLE = 'review-lease-renewal';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
let dynamo: EmbeddedDynamo;
let client: DynamoDBClient;

/** A TCP proxy to dynalite that can be cut (every connection dropped, new ones refused). */
async function cuttableProxy(target: URL): Promise<{ endpoint: string; cut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(Number(target.port), target.hostname);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    cut: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      }),
  };
}

beforeAll(async () => {
  dynamo = await startDynalite();
  client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials });
  await new DynamoCatalog(client, TABLE).ensureTable();
});
afterAll(async () => {
  client.destroy();
  await dynamo.close();
});

it('a holder that cannot renew is told it lost the lease before another holder can take it', async () => {
  const proxy = await cuttableProxy(new URL(dynamo.endpoint));
  const cutOff = new DynamoDBClient({ endpoint: proxy.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  const leaseMs = 1_500;
  const a = new MaintenanceLease(cutOff, TABLE, { name: 'index#s1', holder: 'a' });
  const b = new MaintenanceLease(client, TABLE, { name: 'index#s1', holder: 'b' });
  expect(await a.acquire(leaseMs)).toBe(true);
  let lostAt: number | undefined;
  const stop = keepRenewed(a, leaseMs, () => (lostAt ??= Date.now()));
  try {
    await proxy.cut(); // from now on every renewal of a's fails
    // b polls until the lapsed lease is free, as another process's pass would.
    const deadline = Date.now() + 20_000;
    let takenAt: number | undefined;
    while (Date.now() < deadline && takenAt === undefined) {
      if (await b.acquire(60_000)) takenAt = Date.now();
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(takenAt).toBeDefined();
    // a must have stopped believing it holds the lease no later than b took it.
    expect(lostAt).toBeDefined();
    expect(lostAt!).toBeLessThanOrEqual(takenAt!);
  } finally {
    stop();
    cutOff.destroy();
  }
}, 30_000);

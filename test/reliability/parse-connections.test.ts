// Review finding F3: 36,000 idle keep-alive connections exhausted 20,000 file descriptors. The server
// keeps at most S3V_MAX_CONNECTIONS open (default: half the open-file limit, at most 10,000); past
// it an idle connection is closed to make room (one that never sent a request first), so clients
// keep being answered. Without the limit every connection stays open and the counts below fail.
import { GetIndexCommand, CreateIndexCommand, CreateVectorBucketCommand, S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { connect, type Socket } from 'node:net';
import { defaultMaxConnections, httpSettingsFromEnv, openFileLimit, serverOptions } from '../../lambdas/local/listen';
import { REGION, startTestService, TEST_CREDENTIALS, uniqueName, type TestService } from '../helpers/service';

const LIMIT = 20;

let t: TestService;
const saved = { ...process.env };
beforeAll(async () => {
  process.env.S3V_MAX_CONNECTIONS = String(LIMIT);
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
  process.env = saved;
});

interface Conn {
  socket: Socket;
  closed(): boolean;
}

/** A connection that never sends a byte; or, with `request`, one that made a request and now sits idle. */
function open(url: string, makeRequest = false): Promise<Conn> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    let closed = false;
    const conn = { socket: connect(Number(target.port), target.hostname), closed: () => closed };
    conn.socket.on('close', () => (closed = true));
    conn.socket.on('error', () => undefined);
    conn.socket.once('error', reject);
    conn.socket.once('connect', () => {
      if (!makeRequest) return resolve(conn);
      conn.socket.write(`GET /no-such-operation HTTP/1.1\r\nHost: ${target.host}\r\nConnection: keep-alive\r\n\r\n`);
      conn.socket.once('data', () => resolve(conn));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('past the connection limit the idle connections make room, and requests keep being answered', async () => {
  const bucket = uniqueName('conn');
  const indexName = uniqueName('i');
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: bucket }));
  await t.client.send(new CreateIndexCommand({ vectorBucketName: bucket, indexName, dataType: 'float32', dimension: 4, distanceMetric: 'euclidean' }));

  // Three times the limit: connections that never send a byte, and keep-alive ones left idle.
  const conns: Conn[] = [];
  for (let i = 0; i < 2 * LIMIT; i++) conns.push(await open(t.url));
  for (let i = 0; i < LIMIT; i++) conns.push(await open(t.url, true));
  await sleep(200);
  const openNow = () => conns.filter((c) => !c.closed()).length;
  expect(openNow()).toBeLessThanOrEqual(LIMIT);
  // The newest are the ones kept: the last idle keep-alive connection is still open.
  expect(conns[conns.length - 1].closed()).toBe(false);

  // A fresh client is answered every time while more idle connections pile up. Its own idle
  // keep-alive socket may be the one closed to make room, which a client sees as a reset and
  // retries (the SDK's default of 3 attempts).
  const fresh = new S3VectorsClient({ endpoint: t.url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 3 });
  try {
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < LIMIT; i++) conns.push(await open(t.url, i % 2 === 0));
      const got = await fresh.send(new GetIndexCommand({ vectorBucketName: bucket, indexName }));
      expect(got.index?.indexName).toBe(indexName);
    }
    await sleep(200);
    expect(openNow()).toBeLessThanOrEqual(LIMIT);
  } finally {
    fresh.destroy();
    for (const c of conns) c.socket.destroy();
  }
});

test('the defaults: half the open-file limit, at most 10,000; timeouts that let a slow 20 MiB upload finish', () => {
  expect(defaultMaxConnections(20_000)).toBe(10_000);
  expect(defaultMaxConnections(1024)).toBe(512);
  expect(defaultMaxConnections(undefined)).toBe(10_000);
  expect(openFileLimit('/nonexistent')).toBeUndefined();
  const settings = httpSettingsFromEnv({});
  // 20 MiB within the request timeout at 35 KB/s; headers never wait longer than the whole request.
  expect(settings.requestTimeoutMs).toBeGreaterThanOrEqual((20 * 1024 * 1024) / 35_000 * 1000);
  expect(serverOptions({ ...settings, headersTimeoutMs: 900_000 }).headersTimeout).toBe(settings.requestTimeoutMs);
  expect(() => httpSettingsFromEnv({ S3V_MAX_CONNECTIONS: '0' })).toThrow(/S3V_MAX_CONNECTIONS/);
});

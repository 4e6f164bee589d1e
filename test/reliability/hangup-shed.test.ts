// Hangup: at S3V_MAX_CONNECTIONS with every connection busy at a fair pace, a newcomer was closed
// unanswered: the SDK saw `TimeoutError: socket hang up`, which a client with maxAttempts 1 (the bench)
// cannot tell from a crash. Now the newcomer's request is answered with the model's retryable
// ServiceUnavailableException (503). Without the fix the first call below fails with socket hang up.
import { ListVectorBucketsCommand, S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { connect, type Socket } from 'node:net';
import { REGION, startTestService, TEST_CREDENTIALS, type TestService } from '../helpers/service';

jest.setTimeout(120_000);
const LIMIT = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let t: TestService;
const saved = { ...process.env };
const sockets: Socket[] = [];
beforeAll(async () => {
  process.env = { ...saved, S3V_MAX_CONNECTIONS: String(LIMIT) };
  t = await startTestService();
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await t?.close();
  process.env = saved;
});

/** A connection uploading a 4 MB body at ~200 KB/s (far above the floor): busy, at a fair pace. */
async function uploader(): Promise<() => void> {
  const target = new URL(t.url);
  const socket = connect(Number(target.port), target.hostname);
  sockets.push(socket);
  socket.on('error', () => undefined);
  await new Promise((r) => socket.once('connect', r));
  socket.write(`POST /PutVectors HTTP/1.1\r\nHost: ${target.host}\r\ncontent-type: application/json\r\ncontent-length: 4000000\r\n\r\n{"pad":"`);
  const chunk = 'x'.repeat(20_000);
  const drip = setInterval(() => !socket.destroyed && socket.write(chunk), 100);
  return () => clearInterval(drip);
}

test('a newcomer turned away at the connection limit gets a retryable 503, not a reset', async () => {
  const stops = [];
  for (let i = 0; i < LIMIT; i++) stops.push(await uploader());
  await sleep(500);
  const client = new S3VectorsClient({ endpoint: t.url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  try {
    const outcome = await client.send(new ListVectorBucketsCommand({})).then(
      () => 'answered',
      (e: Error & { $metadata?: { httpStatusCode?: number } }) => `${e.name} ${e.$metadata?.httpStatusCode ?? ''} ${e.message}`.trim(),
    );
    expect(outcome).toMatch(/^ServiceUnavailableException 503/);
    expect(sockets.filter((s) => s.destroyed).length).toBe(0);
  } finally {
    stops.forEach((stop) => stop());
    client.destroy();
  }
  // Once the uploads are gone, the same call is served.
  for (const s of sockets) s.destroy();
  await sleep(300);
  const again = new S3VectorsClient({ endpoint: t.url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 3 });
  try {
    await expect(again.send(new ListVectorBucketsCommand({}))).resolves.toBeDefined();
  } finally {
    again.destroy();
  }
});

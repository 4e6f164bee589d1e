// Hangup: a busy server cut healthy uploads. The minimum body rate (S3V_MIN_BODY_BYTES_PER_SECOND) was
// judged in a timer, on the socket's byte count. When the server's own event loop stalled (CPU-starved
// at load 40, or a long stretch of work on its thread), the body kept arriving into the kernel but was
// not read; the overdue timer then ran before any I/O, saw no bytes since the headers, and cut the
// request (408, then the socket destroyed: the SDK saw `socket hang up` or a reset mid-upload).
// Now the server's stalled time is not counted against a body, and the body is judged after a poll
// phase has read what was waiting. Without the fix the PutVectors below is cut.
import { CreateIndexCommand, CreateVectorBucketCommand, GetVectorsCommand } from '@aws-sdk/client-s3vectors';
import { connect, type Socket } from 'node:net';
import { signedRequest } from '../helpers/raw';
import { startTestService, type TestService } from '../helpers/service';

jest.setTimeout(120_000);
const GRACE_MS = 1000;
const STALL_MS = 4000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let t: TestService;
const saved = { ...process.env };
beforeAll(async () => {
  process.env = { ...saved, S3V_BODY_RATE_GRACE_MS: String(GRACE_MS) };
  t = await startTestService();
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: 'stall' }));
  await t.client.send(new CreateIndexCommand({ vectorBucketName: 'stall', indexName: 'idx', dataType: 'float32', dimension: 768, distanceMetric: 'cosine' }));
});
afterAll(async () => {
  await t?.close();
  process.env = saved;
});

/** Blocks this thread: the server (in this process) reads nothing meanwhile, as when it is starved. */
function stall(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

test('a body that arrived while the server itself was stalled is not cut as slow', async () => {
  const vectors = Array.from({ length: 40 }, (_, i) => ({ key: `v${i}`, data: { float32: Array.from({ length: 768 }, (_, d) => ((i * 31 + d) % 97) / 97 + 0.01) } }));
  const body = JSON.stringify({ vectorBucketName: 'stall', indexName: 'idx', vectors });
  const signed = await signedRequest(t.url, '/PutVectors', body);
  const headers = Object.entries(signed.init.headers as Record<string, string>).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const target = new URL(t.url);
  const socket: Socket = connect(Number(target.port), target.hostname);
  let reply = '';
  let closed = false;
  socket.on('data', (d) => (reply += d.toString()));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  await new Promise((r) => socket.once('connect', r));
  try {
    socket.write(`POST /PutVectors HTTP/1.1\r\n${headers}content-length: ${Buffer.byteLength(body)}\r\n\r\n`);
    // The server reads the headers; the client is a fast one: the whole body goes out at once.
    await sleep(500);
    // From the check phase, so the next loop iteration starts with the (overdue) timers, before I/O.
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        socket.write(body);
        stall(STALL_MS);
        resolve();
      }),
    );
    for (let i = 0; i < 600 && !reply.includes('\r\n\r\n') && !closed; i++) await sleep(100);
    const status = reply.slice(0, 12) || (closed ? 'closed' : 'no answer');
    expect(status).toBe('HTTP/1.1 200');
  } finally {
    socket.destroy();
  }
  const got = await t.client.send(new GetVectorsCommand({ vectorBucketName: 'stall', indexName: 'idx', keys: ['v0', 'v39'] }));
  expect(got.vectors?.map((v) => v.key).sort()).toEqual(['v0', 'v39']);
});

test('a body that really stops arriving is still cut after the grace period', async () => {
  const target = new URL(t.url);
  const socket: Socket = connect(Number(target.port), target.hostname);
  let reply = '';
  let closed = false;
  socket.on('data', (d) => (reply += d.toString()));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  await new Promise((r) => socket.once('connect', r));
  try {
    socket.write(`POST /PutVectors HTTP/1.1\r\nHost: ${target.host}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{`);
    const started = Date.now();
    while (!closed && Date.now() - started < 60_000) await sleep(100);
    expect(closed).toBe(true);
    expect(reply.slice(0, 12)).toBe('HTTP/1.1 408');
  } finally {
    socket.destroy();
  }
});

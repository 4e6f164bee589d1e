// Hangup: at S3V_MAX_CONNECTIONS a newcomer evicted the oldest connection that had not yet produced a
// request, even one whose request was half-way through arriving (a loaded client sends its headers
// late and in pieces): that client got `socket hang up`. Now a connection with bytes in flight ranks
// after the idle keep-alive ones. Without the fix the half-sent request below is closed unanswered.
import { ListVectorBucketsCommand } from '@aws-sdk/client-s3vectors';
import { connect, type Socket } from 'node:net';
import { signedRequest } from '../helpers/raw';
import { clientFor, startTestService, type TestService } from '../helpers/service';

jest.setTimeout(120_000);
const LIMIT = 2;
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

test('a request whose headers are still arriving is not evicted while an idle connection is there', async () => {
  // One idle keep-alive connection: an SDK client that made a call.
  const idleClient = clientFor(t.url);
  await idleClient.send(new ListVectorBucketsCommand({}));
  // One connection half-way through sending a signed request.
  const signed = await signedRequest(t.url, '/ListVectorBuckets', '{}');
  const headers = Object.entries(signed.init.headers as Record<string, string>).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const text = `POST /ListVectorBuckets HTTP/1.1\r\n${headers}content-length: 2\r\n\r\n{}`;
  const target = new URL(t.url);
  const slow = connect(Number(target.port), target.hostname);
  sockets.push(slow);
  let reply = '';
  let closed = false;
  slow.on('data', (d) => (reply += d.toString()));
  slow.on('close', () => (closed = true));
  slow.on('error', () => undefined);
  await new Promise((r) => slow.once('connect', r));
  slow.write(text.slice(0, 40));
  await sleep(300);
  // A newcomer at the limit: it must make room by closing the idle one, not the half-sent one.
  const newcomer = clientFor(t.url);
  try {
    await expect(newcomer.send(new ListVectorBucketsCommand({}))).resolves.toBeDefined();
    slow.write(text.slice(40));
    for (let i = 0; i < 100 && !reply.includes('\r\n\r\n') && !closed; i++) await sleep(100);
    expect(reply.slice(0, 12) || (closed ? 'closed' : 'no answer')).toBe('HTTP/1.1 200');
  } finally {
    newcomer.destroy();
    idleClient.destroy();
  }
});

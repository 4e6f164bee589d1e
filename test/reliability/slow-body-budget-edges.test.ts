// The body budget's edges (S3V_MAX_BODY_BYTES_IN_FLIGHT, here 1 MiB), in process over raw sockets:
// a body that does not fit with the bytes held now gets the 503 before it is sent, and its
// connection stays usable once the rest is dropped; a chunked body (no length declared) is refused
// when it stops fitting; bytes are held as they arrive, not as declared; a body alone always fits.
import { connect, type Socket } from 'node:net';
import { BodyBudget } from '../../lambdas/local/body-budget';
import { startTestService, type TestService } from '../helpers/service';

jest.setTimeout(180_000);
const CAP = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let t: TestService;
const saved = { ...process.env };
beforeAll(async () => {
  process.env = { ...saved, S3V_MAX_BODY_BYTES_IN_FLIGHT: String(CAP) };
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
  process.env = { ...saved };
});
const sockets: Socket[] = [];
afterEach(() => sockets.splice(0).forEach((s) => s.destroy()));

interface Conn {
  socket: Socket;
  reply: () => string;
}
function raw(): Promise<Conn> {
  const target = new URL(t.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(target.port), target.hostname);
    sockets.push(socket);
    let reply = '';
    socket.on('data', (d) => (reply += d.toString()));
    socket.on('error', () => undefined);
    socket.once('error', reject);
    socket.once('connect', () => resolve({ socket, reply: () => reply }));
  });
}
const head = (length: number | 'chunked') =>
  `POST /PutVectors HTTP/1.1\r\nHost: ${new URL(t.url).host}\r\ncontent-type: application/json\r\n` +
  (length === 'chunked' ? 'transfer-encoding: chunked\r\n\r\n' : `content-length: ${length}\r\n\r\n`);
const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
/** A JSON body of exactly `size` bytes. */
const bodyOf = (size: number) => `{"pad":"${'x'.repeat(size - 10)}"}`;
const statuses = (reply: string) => [...reply.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
async function until(what: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !what() && Date.now() < end; ) await sleep(50);
}

test('a body that does not fit is refused before it is sent; its connection then serves the next request', async () => {
  const a = await raw();
  const body = bodyOf(800_000);
  a.socket.write(head(body.length) + body.slice(0, 700_000));
  await sleep(300);
  const b = await raw();
  b.socket.write(head(body.length));
  await until(() => b.reply().includes('\r\n\r\n'));
  expect(b.reply()).toMatch(/^HTTP\/1\.1 503/);
  expect(b.reply()).toMatch(/x-amzn-errortype: ServiceUnavailableException/i);
  // The rest of b's body is read and dropped; the same connection answers its next request.
  b.socket.write(body + 'GET /no-such-operation HTTP/1.1\r\nHost: x\r\n\r\n');
  await until(() => statuses(b.reply()).length === 2);
  expect(statuses(b.reply())).toEqual([503, 404]);
  // a was held all along and is answered once its body is in (unsigned: 403).
  a.socket.write(body.slice(700_000));
  await until(() => a.reply().includes('\r\n\r\n'));
  expect(statuses(a.reply())).toEqual([403]);
});

test('bytes are held as they arrive: a declared length alone holds nothing', async () => {
  const liar = await raw();
  liar.socket.write(head(20 * 1024 * 1024) + '{');
  await sleep(200);
  const c = await raw();
  const body = bodyOf(900_000);
  c.socket.write(head(body.length) + body);
  await until(() => c.reply().includes('\r\n\r\n'));
  expect(statuses(c.reply())).toEqual([403]);
});

test('a chunked body is refused when it stops fitting; a body alone always fits', async () => {
  const a = await raw();
  const body = bodyOf(800_000);
  a.socket.write(head(body.length) + body.slice(0, 700_000));
  await sleep(300);
  const b = await raw();
  b.socket.write(head('chunked') + chunk('{"pad":"' + 'y'.repeat(200_000)));
  await sleep(300);
  expect(b.reply()).toBe('');
  b.socket.write(chunk('y'.repeat(300_000)));
  await until(() => b.reply().includes('\r\n\r\n'));
  expect(statuses(b.reply())).toEqual([503]);
  a.socket.write(body.slice(700_000));
  await until(() => a.reply().includes('\r\n\r\n'));
  expect(statuses(a.reply())).toEqual([403]);
  // Alone, 2 MB (twice the cap) is read and answered.
  const big = bodyOf(2_000_000);
  const c = await raw();
  c.socket.write(head('chunked') + chunk(big.slice(0, 1_000_000)) + chunk(big.slice(1_000_000)) + '0\r\n\r\n');
  await until(() => c.reply().includes('\r\n\r\n'));
  expect(statuses(c.reply())).toEqual([403]);
});

test('BodyBudget: holds and gives back', () => {
  const budget = new BodyBudget(100);
  expect(budget.take(150)).toBe(true); // alone
  expect(budget.fits(1)).toBe(false);
  expect(budget.take(10, 150)).toBe(true); // still alone, growing
  budget.give(160);
  expect(budget.inFlight).toBe(0);
  expect(budget.take(60)).toBe(true);
  expect(budget.take(50)).toBe(false);
  expect(budget.take(40)).toBe(true);
  expect(budget.inFlight).toBe(100);
});

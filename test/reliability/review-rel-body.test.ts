// Review (review-rel): hostile bodies parsed on the body worker must get exactly the inline answer,
// and no body may leave a request unanswered. Two servers: every body through the worker
// (S3V_BODY_WORKER_MIN_BYTES=0) and inline (S3V_BODY_WORKERS=0).
import { CreateIndexCommand, CreateVectorBucketCommand, GetVectorsCommand } from '@aws-sdk/client-s3vectors';
import { callOperation, type RawResponse } from '../helpers/raw';
import { startTestService, type TestService } from '../helpers/service';

jest.setTimeout(120_000);

const DIM = 4;
let worker: TestService;
let inline: TestService;
// startTestService's env reaches the body-worker settings (startS3Vectors passes it through).
const start = (env: Record<string, string>): Promise<TestService> => startTestService({ env });

beforeAll(async () => {
  worker = await start({ S3V_BODY_WORKERS: '1', S3V_BODY_WORKER_MIN_BYTES: '0' });
  inline = await start({ S3V_BODY_WORKERS: '0' });
  for (const t of [worker, inline]) {
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: 'rr-bucket' }));
    await t.client.send(new CreateIndexCommand({ vectorBucketName: 'rr-bucket', indexName: 'euclid', dataType: 'float32', dimension: DIM, distanceMetric: 'euclidean' }));
  }
});
afterAll(async () => {
  await worker?.close();
  await inline?.close();
});

const head = '{"vectorBucketName": "rr-bucket", "indexName": "euclid", ';
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** The answer, or 'no answer' when none came within `ms` (a hung request). */
async function answer(url: string, body: string, ms = 20_000): Promise<unknown> {
  const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('no answer'), ms).unref());
  const reply = await Promise.race([callOperation(url, 'PutVectors', body), timeout]);
  if (typeof reply === 'string') return reply;
  const r = reply as RawResponse;
  return { status: r.status, errorType: r.errorType, message: r.body.message, fieldList: r.body.fieldList };
}

const bodies: [string, string][] = [
  // Deep enough to serialize on the worker's 4 MB stack, too deep to deserialize on the main thread.
  ['metadata nested 6,000 deep', `${head}"vectors": [{"key": "d6", "data": {"float32": [1,2,3,4]}, "metadata": {"a": ${nested(6000)}}}]}`],
  ['metadata nested 9,000 deep', `${head}"vectors": [{"key": "d9", "data": {"float32": [1,2,3,4]}, "metadata": {"a": ${nested(9000)}}}]}`],
  ['duplicate vectors members (last wins)', `${head}"vectors": [{"key": "x", "data": {"float32": ["bad"]}}], "vectors": [{"key": "dup", "data": {"float32": [1,2,3,4]}}]}`],
  ['duplicate float32 members', `${head}"vectors": [{"key": "dupf", "data": {"float32": [9,9,9,9], "float32": [1,2,3,5]}}]}`],
  ['3.4028235e38 (max float32, rounded)', `${head}"vectors": [{"key": "max", "data": {"float32": [3.4028235e38, -3.4028235e38, 1, 2]}}]}`],
  ['3.4028236e38 (past float32)', `${head}"vectors": [{"key": "past", "data": {"float32": [1, 2, 3, 3.4028236e38]}}]}`],
  ['1e39', `${head}"vectors": [{"key": "e39", "data": {"float32": [1, 1e39, 3, 4]}}]}`],
  ['1e400 (Infinity once parsed)', `${head}"vectors": [{"key": "e400", "data": {"float32": [1, 2, 1e400, 4]}}]}`],
  ['"NaN" as a string', `${head}"vectors": [{"key": "nan", "data": {"float32": [1, 2, "NaN", 4]}}]}`],
  ['subnormals and underflow', `${head}"vectors": [{"key": "sub", "data": {"float32": [1e-45, 1.401298464324817e-45, 1e-46, 1e-320]}}]}`],
  ['ints and -0', `${head}"vectors": [{"key": "ints", "data": {"float32": [-0, 0, 16777217, -2147483648]}}]}`],
  ['__proto__ in data', `${head}"vectors": [{"key": "pd", "data": {"__proto__": {"float32": [1,2,3,4]}}}]}`],
  ['__proto__ in a vector', `${head}"vectors": [{"__proto__": {"key": "pv", "data": {"float32": [1,2,3,4]}}}]}`],
  ['__proto__ in metadata', `${head}"vectors": [{"key": "pm", "data": {"float32": [1,2,3,4]}, "metadata": {"__proto__": {"x": 1}, "y": 2}}]}`],
  ['vectors a string', `${head}"vectors": "abc"}`],
  ['vectors an object', `${head}"vectors": {"0": {"key": "o", "data": {"float32": [1,2,3,4]}}}}`],
  ['vectors a number', `${head}"vectors": 5}`],
  ['float32 a typed-array look-alike', `${head}"vectors": [{"key": "ta", "data": {"float32": {"0": 1, "1": 2, "2": 3, "3": 4, "length": 4}}}]}`],
  ['lone surrogate in a key', `${head}"vectors": [{"key": "s\\ud800", "data": {"float32": [1,2,3,4]}}]}`],
];

test.each(bodies)('PutVectors with %s: the same answer either way', async (_name, body) => {
  const [a, b] = await Promise.all([answer(worker.url, body), answer(inline.url, body)]);
  expect(a).toEqual(b);
});

test('deeply nested bodies side by side with good ones: every request answered', async () => {
  const good = (k: string) => `${head}"vectors": [{"key": "${k}", "data": {"float32": [1,2,3,4]}}]}`;
  const replies = await Promise.all([answer(worker.url, bodies[0][1]), answer(worker.url, good('after')), answer(worker.url, bodies[1][1]), answer(worker.url, good('after2'))]);
  expect(replies.map((r) => (typeof r === 'string' ? r : (r as { status: number }).status))).toEqual([400, 200, 400, 200]);
});

test('stored values are the same, bit for bit', async () => {
  const keys = ['dup', 'dupf', 'max', 'sub', 'ints', 'pm', 'after'];
  const read = (t: TestService) => t.client.send(new GetVectorsCommand({ vectorBucketName: 'rr-bucket', indexName: 'euclid', keys, returnData: true, returnMetadata: true }));
  const [a, b] = await Promise.all([read(worker), read(inline)]);
  const bits = (r: typeof a) =>
    (r.vectors ?? [])
      .filter((v) => v.key !== 'after')
      .map((v) => ({ key: v.key, bits: Array.from(new Uint32Array(new Float32Array(v.data!.float32!).buffer)), metadata: v.metadata }))
      .sort((x, y) => x.key!.localeCompare(y.key!));
  expect(bits(a)).toEqual(bits(b));
});

test('clients that close mid-body or send more than Content-Length: the server and its worker stay healthy', async () => {
  const { connect } = await import('node:net');
  const { signedRequest } = await import('../helpers/raw');
  const target = new URL(worker.url);
  const good = `${head}"vectors": [{"key": "mid", "data": {"float32": [1,2,3,4]}}]}${' '.repeat(300_000)}`;
  const signed = await signedRequest(worker.url, '/PutVectors', good);
  const headers = Object.entries(signed.init.headers as Record<string, string>).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const send = (declared: number, bytes: string, close: boolean) =>
    new Promise<string>((resolve) => {
      const socket = connect(Number(target.port), target.hostname);
      let reply = '';
      socket.on('error', () => resolve(reply));
      socket.on('data', (d) => (reply += d.toString()));
      socket.on('close', () => resolve(reply));
      socket.write(`POST /PutVectors HTTP/1.1\r\n${headers}content-length: ${declared}\r\nconnection: close\r\n\r\n${bytes}`);
      if (close) setTimeout(() => socket.destroy(), 100);
    });
  const len = Buffer.byteLength(good);
  // Closed after two thirds of the body.
  for (let i = 0; i < 5; i++) expect(await send(len, good.slice(0, Math.floor((len * 2) / 3)), true)).toBe('');
  // Declared shorter than sent: the rest is read as a next request, which Node refuses (400) and
  // closes the connection (the same without the worker: Node's parser).
  expect((await send(len - 1000, good, false)).slice(0, 12)).toBe('HTTP/1.1 400');
  // Declared and sent in full: accepted, stored.
  expect((await send(len, good, false)).slice(0, 12)).toBe('HTTP/1.1 200');
});

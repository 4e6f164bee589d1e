// Bodies parsed on a worker thread (Float32Array vector data, lists cut after a bad vector) must get
// exactly the answers of the inline parse: the same status, error type and message for every
// malformed, mistyped or out-of-range body, and the same data for good ones. Two servers, one
// parsing every body on its worker (S3V_BODY_WORKER_MIN_BYTES=0), one parsing inline.
import { CreateIndexCommand, CreateVectorBucketCommand, GetVectorsCommand } from '@aws-sdk/client-s3vectors';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { request } from 'node:http';
import { callOperation } from '../helpers/raw';
import { REGION, startTestService, TEST_CREDENTIALS, type TestService } from '../helpers/service';

jest.setTimeout(120_000);

const DIM = 8;
let worker: TestService;
let inline: TestService;
// startTestService's env reaches the body-worker settings (startS3Vectors passes it through).
const start = (env: Record<string, string>): Promise<TestService> => startTestService({ env });

beforeAll(async () => {
  worker = await start({ S3V_BODY_WORKERS: '1', S3V_BODY_WORKER_MIN_BYTES: '0' });
  inline = await start({ S3V_BODY_WORKERS: '0' });
  for (const t of [worker, inline]) {
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: 'eq-bucket' }));
    await t.client.send(new CreateIndexCommand({ vectorBucketName: 'eq-bucket', indexName: 'euclid', dataType: 'float32', dimension: DIM, distanceMetric: 'euclidean' }));
    await t.client.send(new CreateIndexCommand({ vectorBucketName: 'eq-bucket', indexName: 'cos', dataType: 'float32', dimension: DIM, distanceMetric: 'cosine' }));
  }
});
afterAll(async () => {
  await worker?.close();
  await inline?.close();
});

const ok = (i: number) => Array.from({ length: DIM }, (_, j) => (i + j) / 10 + 0.05);
const put = (vectors: unknown, indexName = 'euclid') => JSON.stringify({ vectorBucketName: 'eq-bucket', indexName, vectors });
const many = (n: number, bad: (i: number) => unknown[] | undefined) =>
  put(Array.from({ length: n }, (_, i) => ({ key: `k${i}`, data: { float32: bad(i) ?? ok(i) } })));

const bodies: [string, string][] = [
  ['a string "1" in data', put([{ key: 'a', data: { float32: [...ok(0).slice(1), '1'] } }])],
  ['null in data', put([{ key: 'a', data: { float32: [null, ...ok(0).slice(1)] } }])],
  ['an object in data', put([{ key: 'a', data: { float32: [{}, ...ok(0).slice(1)] } }])],
  ['a boolean in data', put([{ key: 'a', data: { float32: [true, ...ok(0).slice(1)] } }])],
  ['a value past float32', put([{ key: 'a', data: { float32: [...ok(0).slice(1), 1e39] } }])],
  ['a value past float32, then a string in a later vector', put([{ key: 'a', data: { float32: [...ok(0).slice(1), -1e39] } }, { key: 'b', data: { float32: ['x'] } }])],
  ['float32 not a list', put([{ key: 'a', data: { float32: { 0: 1 } } }])],
  ['data a list', put([{ key: 'a', data: [1, 2] }])],
  ['empty data', put([{ key: 'a', data: {} }])],
  ['wrong dimension', put([{ key: 'a', data: { float32: [1, 2, 3] } }])],
  ['empty float32', put([{ key: 'a', data: { float32: [] } }])],
  ['zero vector, cosine', put([{ key: 'a', data: { float32: Array(DIM).fill(0) } }], 'cos')],
  ['-0 vector, cosine', put([{ key: 'a', data: { float32: Array(DIM).fill(-0) } }], 'cos').replace(/(?<=\[|,)0(?=,|\])/g, '-0')],
  ['tiny values that round to zero, cosine', put([{ key: 'a', data: { float32: Array(DIM).fill(1e-50) } }], 'cos')],
  ['a bad key after good vectors', put([{ key: 'a', data: { float32: ok(0) } }, { key: '', data: { float32: ok(1) } }])],
  ['a string in vector 3 of 501 (the list cut after it)', many(501, (i) => (i === 3 ? [...ok(i).slice(1), 'x'] : undefined))],
  ['a string in every vector of 500', many(500, (i) => [...ok(i).slice(1), 'x'])],
  ['a bad key after a bad value', put([{ key: 'a', data: { float32: [...ok(0).slice(1), 'x'] } }, { key: 5, data: { float32: ok(1) } }])],
  ['501 good vectors', many(501, () => undefined)],
  ['500 good vectors', many(500, () => undefined)],
  ['vectors not a list', put({ key: 'a' })],
  ['vector entries not objects', put([5, null, 'x'])],
  ['not JSON', '{"vectors": [1, 2'],
  ['a JSON array', '[1, 2, 3]'],
  ['a JSON string', '"PutVectors"'],
  ['white space only', '   \n\t  '],
  ['__proto__ members', '{"__proto__": {"vectorBucketName": "eq-bucket"}, "indexName": "euclid", "vectors": [{"key": "p", "data": {"float32": [1,2,3,4,5,6,7,8]}}]}'],
  ['nested too deep to send back', `{"vectorBucketName": "eq-bucket", "indexName": "euclid", "vectors": [{"key": "d", "data": {"float32": [1,2,3,4,5,6,7,8]}, "metadata": {"a": ${'['.repeat(20000)}${']'.repeat(20000)}}}]}`],
  // The worker's usual answer sends the body's other members as JSON text beside one Float32Array:
  // values JSON text alone could lose or change.
  ['metadata with -0, 1e21, escapes, "__proto__" and numeric keys (sent as text)', '{"vectorBucketName": "eq-bucket", "indexName": "euclid", "vectors": [{"key": "m3", "data": {"float32": [1,2,3,4,5,6,7,8]}, "metadata": {"z": -0, "big": 1e21, "s": "\\u00e9\\n\\"x\\u0001", "__proto__": "p", "10": 1, "2": [-0, 0.1]}}]}'],
  ['a key with a lone surrogate (sent as text)', '{"vectorBucketName": "eq-bucket", "indexName": "euclid", "vectors": [{"key": "ok", "data": {"float32": [1,2,3,4,5,6,7,8]}}, {"key": "\\ud800x", "data": {"float32": [1,2,3,4,5,6,7,8]}}]}'],
  ['metadata with a lone surrogate (sent as text)', '{"vectorBucketName": "eq-bucket", "indexName": "euclid", "vectors": [{"key": "m4", "data": {"float32": [1,2,3,4,5,6,7,8]}, "metadata": {"s": "a\\udc00"}}]}'],
  ['float32 a string in vector 2 of 3, the others good', put([{ key: 'a', data: { float32: ok(0) } }, { key: 'b', data: { float32: 'x' } }, { key: 'c', data: { float32: ok(2) } }])],
  ['a repeated member (the last one wins)', `{"vectorBucketName": "eq-bucket", "indexName": "euclid", "vectors": [{"key": "r1", "data": {"float32": [1,2,3,4,5,6,7,8]}}], "vectors": [{"key": "r2", "data": {"float32": [8,7,6,5,4,3,2,1]}, "data": {"float32": [1,1,1,1,1,1,1,1]}}]}`],
  ['good vectors with metadata', put([{ key: 'm1', data: { float32: ok(1) }, metadata: { genre: 'x', year: 2001 } }, { key: 'm2', data: { float32: [3.4028234663852886e38, -1.5e-45, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6] } }])],
];

test.each(bodies)('PutVectors with %s: the same answer either way', async (_name, body) => {
  const [a, b] = await Promise.all([callOperation(worker.url, 'PutVectors', body), callOperation(inline.url, 'PutVectors', body)]);
  expect({ status: a.status, errorType: a.errorType, message: a.body.message, fieldList: a.body.fieldList }).toEqual({
    status: b.status,
    errorType: b.errorType,
    message: b.body.message,
    fieldList: b.body.fieldList,
  });
});

/** Signs and sends raw bytes (the signer hashes them as they are). */
async function sendBytes(url: string, bytes: Buffer): Promise<{ status: number; errorType?: string }> {
  const target = new URL(url);
  const signed = await new SignatureV4({ credentials: TEST_CREDENTIALS, region: REGION, service: 's3vectors', sha256: Sha256 }).sign({
    method: 'POST',
    protocol: 'http:',
    hostname: target.hostname,
    port: Number(target.port),
    path: '/PutVectors',
    headers: { host: target.host, 'content-type': 'application/json' },
    body: new Uint8Array(bytes),
  });
  return new Promise((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, method: 'POST', path: '/PutVectors', headers: { ...signed.headers, 'content-length': String(bytes.length) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, errorType: res.headers['x-amzn-errortype'] as string | undefined }));
    });
    req.on('error', reject);
    req.end(bytes);
  });
}

test.each([
  ['invalid UTF-8', Buffer.from([0xff, 0xfe])],
  ['valid UTF-8', Buffer.from('é☃😀')],
])('a body with %s: the same signature check either way', async (_name, inKey) => {
  const bytes = Buffer.concat([Buffer.from('{"vectorBucketName": "eq-bucket", "indexName": "euclid", "vectors": [{"key": "u'), inKey, Buffer.from('", "data": {"float32": [1,2,3,4,5,6,7,8]}}]}')]);
  const [a, b] = await Promise.all([sendBytes(worker.url, bytes), sendBytes(inline.url, bytes)]);
  expect(a).toEqual(b);
});

test('the good vectors landed the same', async () => {
  const read = (t: TestService) =>
    t.client.send(new GetVectorsCommand({ vectorBucketName: 'eq-bucket', indexName: 'euclid', keys: ['k0', 'k499', 'm1', 'm2', 'm3', 'm4', 'r1', 'r2'], returnData: true, returnMetadata: true }));
  const [a, b] = await Promise.all([read(worker), read(inline)]);
  const byKey = (vectors: typeof a.vectors) => [...vectors!].sort((x, y) => (x.key! < y.key! ? -1 : 1));
  expect(byKey(a.vectors)).toEqual(byKey(b.vectors));
  expect(a.vectors!.map((v) => v.key).sort()).toEqual(['k0', 'k499', 'm1', 'm2', 'm3', 'm4', 'r2']);
});

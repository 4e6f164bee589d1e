// Over-long lists parsed on a worker thread: the worker cuts a list after its first bad item (so
// millions of small bad items never cross to the event loop), and the answer must stay exactly the
// inline parse's: same status, error type, message and fieldList. Two servers, one parsing every
// body on its worker (S3V_BODY_WORKER_MIN_BYTES=0), one parsing inline.
import { CreateIndexCommand, CreateVectorBucketCommand } from '@aws-sdk/client-s3vectors';
import { callOperation } from '../helpers/raw';
import { startTestService, type TestService } from '../helpers/service';

jest.setTimeout(180_000);

const DIM = 4;
let worker: TestService;
let inline: TestService;

beforeAll(async () => {
  worker = await startTestService({ env: { S3V_BODY_WORKERS: '1', S3V_BODY_WORKER_MIN_BYTES: '0' } });
  inline = await startTestService({ env: { S3V_BODY_WORKERS: '0' } });
  for (const t of [worker, inline]) {
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: 'eql-bucket' }));
    await t.client.send(new CreateIndexCommand({ vectorBucketName: 'eql-bucket', indexName: 'idx', dataType: 'float32', dimension: DIM, distanceMetric: 'euclidean' }));
  }
});
afterAll(async () => {
  await worker?.close();
  await inline?.close();
});

const target = { vectorBucketName: 'eql-bucket', indexName: 'idx' };
const good = (i: number) => ({ key: `k${i}`, data: { float32: [i, 1, 2, 3] } });
const vectors = (n: number, item: (i: number) => unknown = good) => JSON.stringify({ ...target, vectors: Array.from({ length: n }, (_, i) => item(i)) });
const repeat = (member: string, n: number, item: string, extra = target as object) =>
  `{${Object.entries(extra).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)},`).join('')}"${member}":[${`${item},`.repeat(n - 1)}${item}]}`;
const keys = (n: number, key: (i: number) => unknown = (i) => `k${i}`) => JSON.stringify({ ...target, keys: Array.from({ length: n }, (_, i) => key(i)) });

const cases: [string, string, string][] = [
  ['PutVectors', '501 empty items', repeat('vectors', 501, '{}')],
  ['PutVectors', '10,000 empty items', repeat('vectors', 10_000, '{}')],
  ['PutVectors', '3,000,000 empty items', repeat('vectors', 3_000_000, '{}')],
  ['PutVectors', '1,000,000 numbers as items', repeat('vectors', 1_000_000, '7')],
  ['PutVectors', '500,000 items with a numeric key', repeat('vectors', 500_000, '{"key":1,"data":{"float32":[1]}}')],
  ['PutVectors', '500,000 items with an empty key', repeat('vectors', 500_000, '{"key":"","data":{"float32":[1]}}')],
  ['PutVectors', '500,000 items with data {}', repeat('vectors', 500_000, '{"key":"a","data":{}}')],
  ['PutVectors', '500,000 items with data []', repeat('vectors', 500_000, '{"key":"a","data":[]}')],
  ['PutVectors', '10,000 good vectors', vectors(10_000)],
  ['PutVectors', '10,000 vectors, item 7,000 with no data', vectors(10_000, (i) => (i === 7000 ? { key: 'x' } : good(i)))],
  ['PutVectors', '10,000 vectors, item 600 with a string in data', vectors(10_000, (i) => (i === 600 ? { key: 'x', data: { float32: [1, 2, 'x', 4] } } : good(i)))],
  ['PutVectors', '10,000 vectors, item 600 with metadata a list', vectors(10_000, (i) => (i === 600 ? { ...good(i), metadata: [1] } : good(i)))],
  ['PutVectors', '10,000 vectors with nested metadata arrays', vectors(10_000, (i) => ({ ...good(i), metadata: { a: [[[i]], [[[]]]] } }))],
  ['PutVectors', '501 vectors with deeply nested metadata arrays, item 300 keyless', vectors(501, (i) => (i === 300 ? { data: good(i).data } : { ...good(i), metadata: { a: JSON.parse('['.repeat(200) + ']'.repeat(200)) } }))],
  ['PutVectors', 'a bad bucket name, then 100,000 empty items', repeat('vectors', 100_000, '{}', { vectorBucketName: 'Bad_Name', indexName: 'idx' })],
  ['PutVectors', 'a bad index name, then 100,000 empty items', repeat('vectors', 100_000, '{}', { vectorBucketName: 'eql-bucket', indexName: 'x' })],
  ['PutVectors', 'a data union with two members unset (null), 100,000 items', repeat('vectors', 100_000, '{"key":"a","data":{"float32":null}}')],
  ['PutVectors', '20,000 good vectors (too many to pack)', vectors(20_000)],
  ['PutVectors', '20,000 vectors, item 15,000 with a string in data', vectors(20_000, (i) => (i === 15_000 ? { key: 'x', data: { float32: [1, 'x', 2, 3] } } : good(i)))],
  ['PutVectors', '20,000 vectors, item 15,000 past float32', vectors(20_000, (i) => (i === 15_000 ? { key: 'x', data: { float32: [1, 1e39, 2, 3] } } : good(i)))],
  ['PutVectors', '450,000 tiny good vectors', repeat('vectors', 450_000, '{"key":"a","data":{"float32":[1]}}')],
  ['GetVectors', '101 good keys', keys(101)],
  ['GetVectors', '10,000 keys, key 5,000 empty', keys(10_000, (i) => (i === 5000 ? '' : `k${i}`))],
  ['GetVectors', '3,000,000 empty keys', repeat('keys', 3_000_000, '""')],
  ['GetVectors', '3,000,000 numeric keys', repeat('keys', 3_000_000, '0')],
  ['GetVectors', '1,000 keys over 1024 characters', repeat('keys', 1_000, JSON.stringify('é'.repeat(1025)))],
  ['DeleteVectors', '501 good keys', keys(501)],
  ['DeleteVectors', '3,000,000 null keys', repeat('keys', 3_000_000, 'null')],
  ['DeleteVectors', '10,000 keys, key 200 an object', keys(10_000, (i) => (i === 200 ? { k: 1 } : `k${i}`))],
];

test.each(cases)('%s with %s: the same answer either way', async (operation, _name, body) => {
  const a = await callOperation(worker.url, operation, body);
  const b = await callOperation(inline.url, operation, body);
  expect(b.status).toBe(400);
  expect({ status: a.status, errorType: a.errorType, message: a.body.message, fieldList: a.body.fieldList }).toEqual({
    status: b.status,
    errorType: b.errorType,
    message: b.body.message,
    fieldList: b.body.fieldList,
  });
});

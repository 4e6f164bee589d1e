// QueryVectors pages after the first read the ranking the first page's search kept: one search for
// all pages, and pages stay one ranking even when vectors are written or deleted between them.
import {
  CreateIndexCommand,
  CreateVectorBucketCommand,
  DeleteVectorsCommand,
  PutVectorsCommand,
  QueryVectorsCommand,
  type QueryVectorsCommandOutput,
} from '@aws-sdk/client-s3vectors';
import { Cursors } from '../../lambdas/core/pagination/cursors';
import { expectAwsError, startTestService, uniqueName, type TestService } from '../helpers/service';

let t: TestService;
let searches = 0;
const dimension = 8;
const count = 1500;
const ref = { vectorBucketName: '', indexName: 'pages' };
const vectors: number[][] = [];

beforeAll(async () => {
  t = await startTestService();
  // Counts the searches the store runs (the real store underneath; nothing is faked).
  const store = t.service.deps.store;
  const query = store.query.bind(store);
  store.query = (index, request) => {
    searches++;
    return query(index, request);
  };
  ref.vectorBucketName = uniqueName('pages');
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: ref.vectorBucketName }));
  await t.client.send(new CreateIndexCommand({ ...ref, dataType: 'float32', dimension, distanceMetric: 'euclidean' }));
  let seed = 11;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648 - 0.5);
  for (let i = 0; i < count; i++) vectors.push(Array.from({ length: dimension }, next).map(Math.fround));
  for (let i = 0; i < count; i += 500) {
    await t.client.send(
      new PutVectorsCommand({ ...ref, vectors: vectors.slice(i, i + 500).map((v, j) => ({ key: `v${i + j}`, data: { float32: v }, metadata: { i: i + j } })) }),
    );
  }
});
afterAll(() => t.close());

const distance = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0));

async function page(queryVector: number[], topK: number, nextToken?: string, returnMetadata = false): Promise<QueryVectorsCommandOutput> {
  return t.client.send(new QueryVectorsCommand({ ...ref, topK, queryVector: { float32: queryVector }, returnDistance: true, returnMetadata, nextToken }));
}

it('runs one search for all pages of a topK 1000, which are the exact top 1000 in order', async () => {
  const q = vectors[3].map((x) => x + 0.01);
  searches = 0;
  const hits: { key?: string; distance?: number }[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const out = await page(q, 1000, token);
    hits.push(...out.vectors!);
    token = out.nextToken;
    pages++;
  } while (token);
  expect(pages).toBe(10);
  expect(searches).toBe(1);
  const truth = vectors.map((v, i) => ({ key: `v${i}`, d: distance(v, q) })).sort((a, b) => a.d - b.d).slice(0, 1000);
  expect(hits.map((h) => h.key)).toEqual(truth.map((x) => x.key));
  hits.forEach((h, i) => expect(h.distance!).toBeCloseTo(truth[i].d, 4));
});

it('keeps one ranking when vectors are written and deleted between pages', async () => {
  const q = vectors[10];
  const first = await page(q, 500);
  const seen = first.vectors!.map((v) => v.key!);
  // Vectors nearer than anything, and the deletion of ranked keys: a new search would shift every page.
  await t.client.send(
    new PutVectorsCommand({ ...ref, vectors: Array.from({ length: 50 }, (_, i) => ({ key: `near${i}`, data: { float32: q.map((x) => x + 1e-4 * (i + 1)) } })) }),
  );
  await t.client.send(new DeleteVectorsCommand({ ...ref, keys: seen.slice(0, 30) }));
  let token = first.nextToken;
  while (token) {
    const out = await page(q, 500, token);
    seen.push(...out.vectors!.map((v) => v.key!));
    token = out.nextToken;
  }
  expect(seen).toHaveLength(500);
  expect(new Set(seen).size).toBe(500);
  expect(seen.some((k) => k.startsWith('near'))).toBe(false);
  await t.client.send(new DeleteVectorsCommand({ ...ref, keys: Array.from({ length: 50 }, (_, i) => `near${i}`) }));
  await t.client.send(
    new PutVectorsCommand({ ...ref, vectors: Array.from({ length: 30 }, (_, i) => ({ key: seen[i], data: { float32: vectors[Number(seen[i].slice(1))] }, metadata: { i: Number(seen[i].slice(1)) } })) }),
  );
});

it('returns metadata on later pages, read for the page keys', async () => {
  const q = vectors[20];
  const first = await page(q, 200, undefined, true);
  const second = await page(q, 200, first.nextToken, true);
  expect(second.nextToken).toBeUndefined();
  expect(second.vectors).toHaveLength(100);
  for (const v of [...first.vectors!, ...second.vectors!]) expect(v.metadata).toEqual({ i: Number(v.key!.slice(1)) });
});

it('refuses a token of another query, and tokens stay bound to their query', async () => {
  const first = await page(vectors[0], 300);
  for (const other of [page(vectors[1], 300, first.nextToken), page(vectors[0], 301, first.nextToken)]) {
    expect((await expectAwsError(other, 'ValidationException', 400)).message).toMatch(/different request/);
  }
  const second = await page(vectors[0], 300, first.nextToken);
  expect(second.vectors).toHaveLength(100);
});

it('continues from the catalog in a process that did not issue the token', async () => {
  const q = vectors[30];
  const first = await page(q, 300);
  const deps = t.service.deps;
  const warm = deps.cursors;
  // A fresh cursor store over the same catalog: nothing in memory, as in another Lambda process.
  deps.cursors = new Cursors(deps.catalog, deps.config.cursorTtlSeconds, deps.now);
  try {
    const second = await page(q, 300, first.nextToken);
    const third = await page(q, 300, second.nextToken);
    const keys = [...first.vectors!, ...second.vectors!, ...third.vectors!].map((v) => v.key);
    expect(new Set(keys).size).toBe(300);
    expect(third.nextToken).toBeUndefined();
  } finally {
    deps.cursors = warm;
  }
});

it('refuses forged page tokens', async () => {
  const q = vectors[40];
  const first = await page(q, 300);
  const id = first.nextToken!.split('.')[0];
  for (const forged of [`${id}.300`, `${id}.0`, `${id}.-1`, `${id}.1e3`, id, `${id}.100.1`, 'x'.repeat(32) + '.100']) {
    await expectAwsError(page(q, 300, forged), 'ValidationException', 400);
  }
});

it('keeps a ranking of long keys that JSON escapes (a page larger than one catalog item)', async () => {
  const long = { vectorBucketName: ref.vectorBucketName, indexName: 'long-keys' };
  await t.client.send(new CreateIndexCommand({ ...long, dataType: 'float32', dimension, distanceMetric: 'euclidean' }));
  // 1000 control characters per key: 6 bytes each in JSON, so 100 keys are 600 KB.
  const keys = Array.from({ length: 300 }, (_, i) => `${'\u0001'.repeat(1000)}${String(i).padStart(3, '0')}`);
  for (let i = 0; i < keys.length; i += 100) {
    await t.client.send(new PutVectorsCommand({ ...long, vectors: keys.slice(i, i + 100).map((key, j) => ({ key, data: { float32: vectors[i + j] } })) }));
  }
  const seen: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await t.client.send(new QueryVectorsCommand({ ...long, topK: 300, queryVector: { float32: vectors[0] }, nextToken }));
    seen.push(...out.vectors!.map((v) => v.key!));
    nextToken = out.nextToken;
  } while (nextToken);
  expect(seen).toHaveLength(300);
  expect(new Set(seen)).toEqual(new Set(keys));
});

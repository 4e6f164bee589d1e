// ListVectors pages are key ranges read through the BTREE on keys (lambdas/core/pagination/key-ranges.ts):
// every key exactly once across segments and pages, in UTF-8 order, also while vectors are written
// and deleted between pages and when the response size cap cuts pages short.
import {
  CreateIndexCommand,
  CreateVectorBucketCommand,
  DeleteVectorsCommand,
  ListVectorsCommand,
  PutVectorsCommand,
} from '@aws-sdk/client-s3vectors';
import { startTestService, uniqueName, type TestService } from '../helpers/service';

let t: TestService;
let bucket: string;
const dimension = 4;

beforeAll(async () => {
  // The key BTREE from 100 rows, and no ANN index: the ranges are read as they are in large indexes.
  process.env.S3V_MAINT_KEY_INDEX_MIN_ROWS = '100';
  process.env.S3V_MAINT_ANN_MIN_FLOATS = '100000000';
  t = await startTestService({ maintenance: true, env: { S3V_MAX_LIST_PAGE_BYTES: '4000' } });
  bucket = uniqueName('ranges');
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: bucket }));
});
afterAll(async () => {
  delete process.env.S3V_MAINT_KEY_INDEX_MIN_ROWS;
  delete process.env.S3V_MAINT_ANN_MIN_FLOATS;
  await t.close();
});

// ASCII, Latin-1, and astral-plane keys, whose UTF-8 order differs from JavaScript's UTF-16 order.
const keyOf = (i: number) => [`k${i}`, `é${i}`, `\u{1F600}${i}`, `\uFF5E${i}`][i % 4];
const utf8Sorted = (keys: string[]) => [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

async function put(ref: { vectorBucketName: string; indexName: string }, keys: string[]) {
  for (let i = 0; i < keys.length; i += 500) {
    const vectors = keys.slice(i, i + 500).map((key, j) => ({ key, data: { float32: [i + j, 1, 2, 3] } }));
    await t.client.send(new PutVectorsCommand({ ...ref, vectors }));
  }
}

async function newIndex(keys: string[]) {
  const ref = { vectorBucketName: bucket, indexName: uniqueName('idx') };
  await t.client.send(new CreateIndexCommand({ ...ref, dataType: 'float32', dimension, distanceMetric: 'euclidean' }));
  await put(ref, keys);
  await t.service.maintenance!.runNow({ catchUp: true });
  return ref;
}

/** Lists one segment page by page, calling `between` after each page. */
async function listSegment(
  ref: object,
  segment: { segmentCount: number; segmentIndex: number } | undefined,
  maxResults: number,
  between: (page: number) => Promise<void> = async () => {},
  returnData = false,
) {
  const keys: string[] = [];
  const pageSizes: number[] = [];
  let nextToken: string | undefined;
  do {
    const out = await t.client.send(new ListVectorsCommand({ ...ref, ...segment, maxResults, nextToken, returnData }));
    keys.push(...out.vectors!.map((v) => v.key!));
    pageSizes.push(out.vectors!.length);
    nextToken = out.nextToken;
    await between(pageSizes.length);
  } while (nextToken);
  return { keys, pageSizes };
}

it('lists every key exactly once across segments and pages, in UTF-8 order, with the key BTREE in place', async () => {
  const all = Array.from({ length: 2400 }, (_, i) => keyOf(i));
  const ref = await newIndex(all);
  const stats = await (t.service.deps.store as unknown as { tableStats(i: object): Promise<{ indices: { columns: string[] }[] }> }).tableStats(
    (await t.service.deps.catalog.getIndex(ref.vectorBucketName, ref.indexName))!,
  );
  expect(stats.indices.some((i) => i.columns.length === 1 && i.columns[0] === 'key')).toBe(true);
  const listed: string[] = [];
  for (let segmentIndex = 0; segmentIndex < 3; segmentIndex++) {
    const { keys } = await listSegment(ref, { segmentCount: 3, segmentIndex }, 70);
    expect(keys).toEqual(utf8Sorted(keys));
    listed.push(...keys);
  }
  expect(utf8Sorted(listed)).toEqual(utf8Sorted(all));
  const whole = await listSegment(ref, undefined, 1000);
  expect(whole.keys).toEqual(utf8Sorted(all));
});

it('lists each key present throughout exactly once while others are written and deleted between pages', async () => {
  const stable = Array.from({ length: 1500 }, (_, i) => keyOf(i));
  const doomed = Array.from({ length: 300 }, (_, i) => `doomed-${keyOf(i)}`);
  const ref = await newIndex([...stable, ...doomed]);
  let n = 0;
  const listed: string[] = [];
  for (let segmentIndex = 0; segmentIndex < 2; segmentIndex++) {
    const { keys } = await listSegment(ref, { segmentCount: 2, segmentIndex }, 60, async (page) => {
      // New keys all over the key space, deletions, and rewrites of keys already listed and still ahead.
      const fresh = Array.from({ length: 20 }, () => `${keyOf(n)}-new${n++}`);
      await put(ref, [...fresh, ...stable.slice(page * 37, page * 37 + 10)]);
      await t.client.send(new DeleteVectorsCommand({ ...ref, keys: doomed.slice(page * 10, page * 10 + 10) }));
    });
    expect(keys).toEqual(utf8Sorted(keys));
    listed.push(...keys);
  }
  expect(new Set(listed).size).toBe(listed.length);
  const seen = new Set(listed);
  for (const key of stable) expect(seen.has(key)).toBe(true);
});

it('cuts pages at the response size cap and resumes inside the range', async () => {
  const all = Array.from({ length: 600 }, (_, i) => keyOf(i));
  const ref = await newIndex(all);
  const { keys, pageSizes } = await listSegment(ref, undefined, 200, undefined, true);
  expect(keys).toEqual(utf8Sorted(all));
  // 4000 bytes hold far fewer than 200 vectors with their data.
  expect(Math.max(...pageSizes)).toBeLessThan(200);
});

it('ends without an empty page when the last page is full', async () => {
  const all = Array.from({ length: 200 }, (_, i) => keyOf(i));
  const ref = await newIndex(all);
  const { keys, pageSizes } = await listSegment(ref, undefined, 100);
  expect(keys).toEqual(utf8Sorted(all));
  expect(pageSizes).toEqual([100, 100]);
});

it('lists long keys that JSON escapes (fences wider than one catalog item would allow)', async () => {
  // 1000 control characters per key: 6 bytes each in JSON, so a fence per key would be 900 KB.
  const all = Array.from({ length: 150 }, (_, i) => `${'\u0001'.repeat(1000)}${String(i).padStart(4, '0')}`);
  const ref = await newIndex(all);
  const { keys } = await listSegment(ref, undefined, 1);
  expect(keys).toEqual(all);
});

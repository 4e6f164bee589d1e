// The PutVectors write path (lambdas/adapters/lance/put-path.ts): new keys are appended, existing
// ones merged, and calls queued behind the index's write lock are committed together. Edge cases:
// new and existing keys in one batch, keys only in fragments the key BTREE does not cover yet, a
// key added by one member of a group and updated by a later member, and a failing group member.
import { join } from 'node:path';
import {
  CreateIndexCommand,
  CreateVectorBucketCommand,
  GetVectorsCommand,
  ListVectorsCommand,
  PutVectorsCommand,
  type S3VectorsClient,
} from '@aws-sdk/client-s3vectors';
import * as lancedb from '@lancedb/lancedb';
import { batchTable, tableSchema } from '../../lambdas/adapters/lance/arrow-batch';
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { existingKeys, PutQueue } from '../../lambdas/adapters/lance/put-path';
import { IndexWriteLock } from '../../lambdas/adapters/lance/write-lock';
import type { IndexRecord, VectorBatch } from '../../lambdas/core/ports';
import { startTestService, uniqueName, type TestService } from '../helpers/service';

jest.setTimeout(180_000);

const DIM = 8;

const vector = (seed: number) => Array.from({ length: DIM }, (_, i) => Math.sin(seed * 3.1 + i) + 2);

async function allKeys(client: S3VectorsClient, vectorBucketName: string, indexName: string): Promise<string[]> {
  const keys: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListVectorsCommand({ vectorBucketName, indexName, nextToken, maxResults: 1000 }));
    keys.push(...page.vectors!.map((v) => v.key!));
    nextToken = page.nextToken;
  } while (nextToken);
  return keys;
}

function batch(keys: string[], version: number): VectorBatch {
  const data = new Float32Array(keys.length * DIM);
  keys.forEach((_, i) => data.set(vector(i + version), i * DIM));
  return { keys, data, metadata: keys.map(() => ({ version })) };
}

describe.each(['local', 's3'] as const)('PutVectors appends and group commits (%s storage)', (storage) => {
  let t: TestService;
  let store: LanceVectorStore;
  const bucket = uniqueName('groups');
  beforeAll(async () => {
    t = await startTestService({ storage });
    store = t.service.deps.store as LanceVectorStore;
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: bucket }));
  });
  afterAll(async () => t.close());

  async function newIndex(): Promise<IndexRecord> {
    const indexName = uniqueName('i');
    await t.client.send(new CreateIndexCommand({ vectorBucketName: bucket, indexName, dataType: 'float32', dimension: DIM, distanceMetric: 'euclidean' }));
    return (await t.service.deps.catalog.getIndex(bucket, indexName))!;
  }

  const put = (indexName: string, keys: string[], version: number) =>
    t.client.send(
      new PutVectorsCommand({
        vectorBucketName: bucket,
        indexName,
        vectors: keys.map((key, i) => ({ key, data: { float32: vector(i + version) }, metadata: { version } })),
      }),
    );

  async function versions(indexName: string, keys: string[]): Promise<Record<string, unknown>> {
    const { vectors } = await t.client.send(new GetVectorsCommand({ vectorBucketName: bucket, indexName, keys, returnMetadata: true }));
    return Object.fromEntries(vectors!.map((v) => [v.key!, (v.metadata as { version: number }).version]));
  }

  const range = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

  it('one batch of new keys, keys under the key index and keys in fragments it does not cover', async () => {
    const index = await newIndex();
    await put(index.name, range('old', 200), 1);
    await store.createScalarIndex(index, 'key', 'BTREE');
    // Written after the index: a fragment the BTREE does not cover until maintenance folds it in.
    await put(index.name, range('fresh', 100), 1);
    const stats = (await store.tableStats(index))!;
    const keyIndex = stats.indices.find((i) => i.columns[0] === 'key')!;
    expect(keyIndex.indexedRows).toBe(200);

    // Mixed: 50 under the index, 50 unindexed, 50 new, and a new key twice (the later wins).
    const mixed = [...range('old', 50), ...range('fresh', 50), ...range('new', 50), 'twice', 'twice'];
    await t.client.send(
      new PutVectorsCommand({
        vectorBucketName: bucket,
        indexName: index.name,
        vectors: mixed.map((key, i) => ({ key, data: { float32: vector(i) }, metadata: { version: i === mixed.length - 1 ? 3 : 2 } })),
      }),
    );
    const keys = await allKeys(t.client, bucket, index.name);
    expect(keys.length).toBe(new Set(keys).size);
    expect(keys.length).toBe(200 + 100 + 50 + 1);
    const got = await versions(index.name, ['old0', 'old49', 'old50', 'fresh0', 'fresh49', 'fresh50', 'new0', 'new49', 'twice']);
    expect(got).toEqual({ old0: 2, old49: 2, old50: 1, fresh0: 2, fresh49: 2, fresh50: 1, new0: 2, new49: 2, twice: 3 });
  });

  it('the key lookup reads the BTREE and the fragments it does not cover', async () => {
    if (storage !== 'local') return; // the plan is Lance's, whatever the object store
    const index = await newIndex();
    await put(index.name, range('a', 300), 1);
    await store.createScalarIndex(index, 'key', 'BTREE');
    await put(index.name, range('b', 300), 1);
    const db = await lancedb.connect(join(t.dataDir, 'vectors'));
    try {
      const table = await db.openTable(index.storageId);
      const wanted = ['a0', 'a299', 'b0', 'b299', 'c0'];
      expect([...(await existingKeys(table, wanted))].sort()).toEqual(['a0', 'a299', 'b0', 'b299']);
      const plan = await table.query().where(`key IN ('a0', 'b0')`).select(['key']).explainPlan();
      expect(plan).toMatch(/ScalarIndexQuery|MaterializeIndex|key_idx/);
      table.close();
    } finally {
      db.close();
    }
  });

  it.each([false, true])('one group: a key added by one call and updated by a later one (key index %s)', async (withKeyIndex) => {
    const index = await newIndex();
    await store.put(index, batch(range('seed', 20), 0));
    if (withKeyIndex) await store.createScalarIndex(index, 'key', 'BTREE');
    const before = (await store.tableStats(index))!.version;
    // All started in one tick: the first takes the lock, the rest queue and form one group.
    await Promise.all([
      store.put(index, batch(['n1', 'n2', 'n3'], 1)),
      store.put(index, batch(['n4', 'n5'], 2)),
      store.put(index, batch(['n6'], 3)),
    ]);
    const appended = (await store.tableStats(index))!.version;
    expect(appended - before).toBe(1); // one commit for three calls, all new keys
    await Promise.all([
      store.put(index, batch(['x', 'seed1', 'n1'], 4)),
      store.put(index, batch(['y'], 5)),
      store.put(index, batch(['x', 'seed2'], 6)),
      store.put(index, batch(['z', 'x'], 7)),
    ]);
    // New keys appended, existing ones merged: at most two commits for the group.
    expect((await store.tableStats(index))!.version - appended).toBeLessThanOrEqual(2);
    const keys = await allKeys(t.client, bucket, index.name);
    expect(keys.length).toBe(new Set(keys).size);
    expect(keys.length).toBe(20 + 6 + 3);
    expect(await versions(index.name, ['x', 'y', 'z', 'seed1', 'seed2', 'seed3', 'n1', 'n4', 'n6'])).toEqual({
      x: 7, y: 5, z: 7, seed1: 4, seed2: 6, seed3: 0, n1: 4, n4: 2, n6: 3,
    });
  });
});

test('a group whose commit fails fails only the member that broke it', async () => {
  const dir = join(require('node:os').tmpdir(), uniqueName('put-queue'));
  const db = await lancedb.connect(dir);
  const schema = tableSchema(DIM);
  const table = await db.createEmptyTable('t', schema);
  const lock = new IndexWriteLock();
  const queue = new PutQueue(lock);
  const build = (b: VectorBatch) => batchTable(schema, DIM, b, new Set());
  const writer = { dimension: DIM, build, table: async () => table };
  try {
    await queue.put('t', { batch: batch(['seed'], 0), data: build(batch(['seed'], 0)) }, writer);
    // A member whose Arrow data does not fit the table (another dimension) fails Lance's append.
    const wrongSchema = tableSchema(DIM + 1);
    const bad = batchTable(wrongSchema, DIM + 1, { keys: ['bad'], data: new Float32Array(DIM + 1), metadata: [undefined] }, new Set());
    const results = await Promise.allSettled([
      queue.put('t', { batch: batch(['a'], 1), data: build(batch(['a'], 1)) }, writer),
      queue.put('t', { batch: batch(['b'], 1), data: build(batch(['b'], 1)) }, writer),
      queue.put('t', { batch: { keys: ['bad'], data: new Float32Array(DIM), metadata: [undefined] }, data: bad }, writer),
      queue.put('t', { batch: batch(['c'], 1), data: build(batch(['c'], 1)) }, writer),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'].map((s, i) => (i === 2 ? 'rejected' : s)));
    const keys = ((await table.query().select(['key']).toArray()) as { key: string }[]).map((r) => r.key).sort();
    expect(keys).toEqual(['a', 'b', 'c', 'seed']);
  } finally {
    table.close();
    db.close();
    lock.close();
    require('node:fs').rmSync(dir, { recursive: true, force: true });
  }
});

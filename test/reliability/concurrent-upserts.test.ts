// Concurrent PutVectors of the same keys that do not exist yet must store one row per key, whatever
// the interleaving: many SDK clients racing first writes (local folder and s3+ddb storage, before
// and after maintenance built the BTREE key index), and several processes on one s3+ddb store.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import {
  CreateIndexCommand,
  CreateVectorBucketCommand,
  ListVectorsCommand,
  PutVectorsCommand,
  QueryVectorsCommand,
  type S3VectorsClient,
} from '@aws-sdk/client-s3vectors';
import * as lancedb from '@lancedb/lancedb';
import { batchTable, tableSchema } from '../../lambdas/adapters/lance/arrow-batch';
import { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { runMaintenanceOnce } from '../../lambdas/maintenance/maintenance';
import { clientFor, startTestService, uniqueName, type TestService } from '../helpers/service';
import { startS3Storage } from '../helpers/s3-storage';

jest.setTimeout(240_000);

const DIM = 8;
const CLIENTS = 8;

function vector(seed: number): number[] {
  return Array.from({ length: DIM }, (_, i) => Math.sin(seed * 7.3 + i) + 1.5);
}

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

function duplicates(keys: string[]): string[] {
  const seen = new Set<string>();
  return [...new Set(keys.filter((k) => (seen.has(k) ? true : (seen.add(k), false))))];
}

async function race(t: TestService, clients: S3VectorsClient[], vectorBucketName: string, indexName: string, prefix: string, count: number) {
  // Every client sends the same new keys (each in its own rotated order) at the same moment.
  const results = await Promise.allSettled(
    clients.map((client, c) =>
      client.send(
        new PutVectorsCommand({
          vectorBucketName,
          indexName,
          vectors: Array.from({ length: count }, (_, i) => {
            const k = (i + c * 5) % count;
            return { key: `${prefix}${k}`, data: { float32: vector(k + c) }, metadata: { client: c } };
          }),
        }),
      ),
    ),
  );
  const failed = results.filter((r) => r.status === 'rejected');
  expect(failed.map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
  void t;
}

async function expectUnique(client: S3VectorsClient, vectorBucketName: string, indexName: string, expected: number) {
  const keys = await allKeys(client, vectorBucketName, indexName);
  expect(duplicates(keys)).toEqual([]);
  expect(keys.length).toBe(expected);
  const { vectors } = await client.send(
    new QueryVectorsCommand({ vectorBucketName, indexName, topK: Math.min(expected, 100), queryVector: { float32: vector(3) } }),
  );
  expect(duplicates(vectors!.map((v) => v.key!))).toEqual([]);
  expect(vectors!.length).toBe(Math.min(expected, 100));
}

describe.each(['local', 's3'] as const)('concurrent first writes of the same keys (%s storage)', (storage) => {
  let t: TestService;
  let clients: S3VectorsClient[];
  const bucket = uniqueName('race');
  beforeAll(async () => {
    t = await startTestService({ storage });
    clients = Array.from({ length: CLIENTS }, () => clientFor(t.url));
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: bucket }));
  });
  afterAll(async () => {
    clients.forEach((c) => c.destroy());
    await t.close();
  });

  async function newIndex(): Promise<string> {
    const indexName = uniqueName('i');
    await t.client.send(new CreateIndexCommand({ vectorBucketName: bucket, indexName, dataType: 'float32', dimension: DIM, distanceMetric: 'euclidean' }));
    return indexName;
  }

  it('an index without vectors: its first writes race', async () => {
    const indexName = await newIndex();
    await race(t, clients, bucket, indexName, 'k', 5);
    await expectUnique(t.client, bucket, indexName, 5);
  });

  it('an index with vectors, before and after the BTREE key index exists', async () => {
    const indexName = await newIndex();
    await t.client.send(
      new PutVectorsCommand({ vectorBucketName: bucket, indexName, vectors: Array.from({ length: 300 }, (_, i) => ({ key: `seed${i}`, data: { float32: vector(i) } })) }),
    );
    for (let round = 0; round < 2; round++) await race(t, clients, bucket, indexName, `a${round}-`, 150);
    await expectUnique(t.client, bucket, indexName, 600);
    // Maintenance builds this index once an index is large; Lance's indexed merge path is the one
    // that never noticed a concurrent insert of the same key.
    const record = (await t.service.deps.catalog.getIndex(bucket, indexName))!;
    await (t.service.deps.store as LanceVectorStore).createScalarIndex(record, 'key', 'BTREE');
    for (let round = 0; round < 2; round++) await race(t, clients, bucket, indexName, `b${round}-`, 150);
    await expectUnique(t.client, bucket, indexName, 900);
  });
});

test('maintenance removes keys stored twice by earlier versions, keeping one row', async () => {
  const t = await startTestService();
  try {
    const bucket = uniqueName('dups');
    const indexName = 'dup-index';
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: bucket }));
    await t.client.send(new CreateIndexCommand({ vectorBucketName: bucket, indexName, dataType: 'float32', dimension: DIM, distanceMetric: 'euclidean' }));
    await t.client.send(
      new PutVectorsCommand({ vectorBucketName: bucket, indexName, vectors: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, data: { float32: vector(i) }, metadata: { v: 1 } })) }),
    );
    // What the old race left: the same keys appended again behind the store's back.
    const record = (await t.service.deps.catalog.getIndex(bucket, indexName))!;
    const db = await lancedb.connect(join(t.dataDir, 'vectors'));
    const table = await db.openTable(record.storageId);
    const keys = ['k3', 'k7', 'k11'];
    await table.add(batchTable(tableSchema(DIM), DIM, { keys, data: new Float32Array(keys.length * DIM).fill(9), metadata: keys.map(() => ({ v: 2 })) }, new Set()));
    table.close();
    db.close();
    const store = t.service.deps.store as LanceVectorStore;
    await store.refresh(record);
    expect(duplicates(await allKeys(t.client, bucket, indexName)).sort()).toEqual(keys.sort());

    await runMaintenanceOnce(t.service.deps);
    const listed = await allKeys(t.client, bucket, indexName);
    expect(duplicates(listed)).toEqual([]);
    expect(listed).toHaveLength(20);
    // The row kept is the later write.
    const got = await store.get(record, keys, { data: false, metadata: true });
    expect(got.map((v) => v.metadata)).toEqual(keys.map(() => ({ v: 2 })));
  } finally {
    await t.close();
  }
});

test('several processes writing one s3+ddb store insert each new key once', async () => {
  const s3 = await startS3Storage();
  const index = {
    bucketName: 'b', name: 'multi', arn: 'arn:aws:s3vectors:us-east-1:123456789012:bucket/b/index/multi', creationTime: 0,
    dataType: 'float32' as const, dimension: DIM, distanceMetric: 'euclidean' as const, nonFilterableMetadataKeys: [],
    encryption: { sseType: 'AES256' as const }, indexMode: 'ENHANCED' as const, tags: {}, storageId: `b.multi.${Date.now().toString(16)}`,
  };
  const PROCESSES = 3, ROUNDS = 4, KEYS = 40;
  const reader = new LanceVectorStore(s3.storage);
  try {
    const startAt = Date.now() + 6000;
    const children = Array.from({ length: PROCESSES }, (_, w) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(__dirname, 'fixtures', 'put-child.ts'), JSON.stringify(s3.storage), JSON.stringify(index), String(startAt), String(w), String(ROUNDS), String(KEYS)],
        { cwd: join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString().split('\n').filter((l) => /^Error|ERROR/.test(l)).join('\n')));
      return new Promise<string>((resolve) => child.on('exit', (code) => resolve(`${code} ${output}`)));
    });
    const outcomes = await Promise.all(children);
    expect(outcomes.map((o) => o.trim())).toEqual(Array(PROCESSES).fill('0 done'));
    const listed = await reader.list(index, { segmentCount: 1, segmentIndex: 0, limit: 100_000, data: false, metadata: false });
    const keys = listed.items.map((v) => v.key);
    expect(duplicates(keys)).toEqual([]);
    expect(keys.length).toBe(ROUNDS * KEYS);
  } finally {
    await reader.close();
    await s3.close();
  }
});

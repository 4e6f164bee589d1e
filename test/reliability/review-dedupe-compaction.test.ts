// The legacy-duplicate repair (removeDuplicateKeys) reads row ids, then deletes every row of those keys
// but the kept ids. If another process (the maintenance worker, a Lambda) compacted the table in
// between, row ids changed: the repair must still keep exactly one row per key, never none.
import { join } from 'node:path';
import { CreateIndexCommand, CreateVectorBucketCommand, PutVectorsCommand } from '@aws-sdk/client-s3vectors';
import * as lancedb from '@lancedb/lancedb';
import { batchTable, tableSchema } from '../../lambdas/adapters/lance/arrow-batch';
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { startTestService, uniqueName } from '../helpers/service';

jest.setTimeout(120_000);
const DIM = 8;

async function repairCase(race: 'before-read' | 'between-read-and-delete'): Promise<string[]> {
  const t = await startTestService();
  try {
    const bucket = uniqueName('dedupe');
    const indexName = 'idx';
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: bucket }));
    await t.client.send(new CreateIndexCommand({ vectorBucketName: bucket, indexName, dataType: 'float32', dimension: DIM, distanceMetric: 'euclidean' }));
    for (let s = 0; s < 40; s += 10) {
      await t.client.send(
        new PutVectorsCommand({ vectorBucketName: bucket, indexName, vectors: Array.from({ length: 10 }, (_, i) => ({ key: `k${s + i}`, data: { float32: Array(DIM).fill(s + i) } })) }),
      );
    }
    const record = (await t.service.deps.catalog.getIndex(bucket, indexName))!;
    const store = t.service.deps.store as LanceVectorStore;
    // Duplicates as versions before the write lock left them, behind the store's back.
    const db = await lancedb.connect(join(t.dataDir, 'vectors'));
    const other = await db.openTable(record.storageId);
    const keys = ['k3', 'k17', 'k25', 'k38'];
    await other.add(batchTable(tableSchema(DIM), DIM, { keys, data: new Float32Array(keys.length * DIM).fill(99), metadata: keys.map(() => undefined) }, new Set()));
    await store.refresh(record);
    if (race === 'before-read') {
      // Another process compacts: the row ids the server's handle sees are no longer the table's.
      await other.optimize({ cleanupOlderThan: new Date(0) });
    } else {
      // Another process compacts just after the repair read the row ids (the real Lance delete then runs).
      const table = (await (store as unknown as { tables: Map<string, Promise<lancedb.Table>> }).tables.get(record.storageId))!;
      const realDelete = table.delete.bind(table);
      table.delete = async (predicate: string) => {
        table.delete = realDelete;
        await other.optimize({ cleanupOlderThan: new Date(0) });
        return realDelete(predicate);
      };
    }

    await store.removeDuplicateKeys(record).catch(() => 0);
    other.close();
    db.close();
    await store.refresh(record);
    const rows = await store.get(record, Array.from({ length: 40 }, (_, i) => `k${i}`), { data: false, metadata: false });
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.key, (counts.get(r.key) ?? 0) + 1);
    const wrong = Array.from({ length: 40 }, (_, i) => `k${i}`).filter((k) => counts.get(k) !== 1);
    return wrong.map((k) => `${k}:${counts.get(k) ?? 0}`);
  } finally {
    await t.close();
  }
}

test('duplicate repair after a compaction by another process keeps one row per key', async () => {
  expect(await repairCase('before-read')).toEqual([]);
});

test('duplicate repair racing a compaction between its read and its delete keeps one row per key', async () => {
  expect(await repairCase('between-read-and-delete')).toEqual([]);
});

import { CreateIndexCommand, CreateVectorBucketCommand, GetIndexCommand, GetVectorsCommand, ListVectorBucketsCommand, PutVectorsCommand, QueryVectorsCommand } from '@aws-sdk/client-s3vectors';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestService } from '../helpers/service';

it('keeps buckets, indexes and vectors across a restart of the server', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 's3v-restart-'));
  try {
    const first = await startTestService({ dataDir, keepData: true, persistCatalog: true, storage: 'local' });
    await first.client.send(new CreateVectorBucketCommand({ vectorBucketName: 'durable', tags: { keep: 'yes' } }));
    await first.client.send(new CreateIndexCommand({ vectorBucketName: 'durable', indexName: 'idx', dataType: 'float32', dimension: 3, distanceMetric: 'euclidean' }));
    await first.client.send(
      new PutVectorsCommand({ vectorBucketName: 'durable', indexName: 'idx', vectors: [{ key: 'a', data: { float32: [1, 2, 3] }, metadata: { m: 'x' } }] }),
    );
    await first.close();

    const second = await startTestService({ dataDir, keepData: true, persistCatalog: true, storage: 'local' });
    try {
      const buckets = await second.client.send(new ListVectorBucketsCommand({}));
      expect(buckets.vectorBuckets!.map((b) => b.vectorBucketName)).toEqual(['durable']);
      const index = await second.client.send(new GetIndexCommand({ vectorBucketName: 'durable', indexName: 'idx' }));
      expect(index.index!.dimension).toBe(3);
      const got = await second.client.send(
        new GetVectorsCommand({ vectorBucketName: 'durable', indexName: 'idx', keys: ['a'], returnData: true, returnMetadata: true }),
      );
      expect(got.vectors).toEqual([{ key: 'a', data: { float32: [1, 2, 3] }, metadata: { m: 'x' } }]);
      const hits = await second.client.send(new QueryVectorsCommand({ vectorBucketName: 'durable', indexName: 'idx', topK: 1, queryVector: { float32: [1, 2, 3] } }));
      expect(hits.vectors).toEqual([{ key: 'a' }]);
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

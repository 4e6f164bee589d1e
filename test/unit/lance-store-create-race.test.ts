// Two processes (two stores on one folder) writing the first vectors of a new index at once: both
// writes must land (the slower creator opens the winner's table, or its put retries).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import type { IndexRecord } from '../../lambdas/core/ports';

const index: IndexRecord = {
  bucketName: 'race',
  name: 'first-write',
  arn: 'arn:aws:s3vectors:us-east-1:123456789012:bucket/race/index/first-write',
  creationTime: 0,
  dataType: 'float32',
  dimension: 2,
  distanceMetric: 'euclidean',
  nonFilterableMetadataKeys: [],
  encryption: { sseType: 'AES256' },
  indexMode: 'ENHANCED',
  tags: {},
  storageId: 'race.first-write.000000000000',
};

it('keeps both first writes when two stores create the same table concurrently', async () => {
  const dir = mkdtempSync(join(tmpdir(), 's3v-race-'));
  const stores = [new LanceVectorStore({ uri: dir, readConsistencySeconds: 0 }), new LanceVectorStore({ uri: dir, readConsistencySeconds: 0 })];
  try {
    await Promise.all(
      stores.map((store, i) => store.put(index, { keys: [`k${i}`], data: Float32Array.from([i, 1]), metadata: [{ writer: i }] })),
    );
    const found = await stores[0].get(index, ['k0', 'k1'], { data: false, metadata: true });
    expect(found.map((v) => v.key).sort()).toEqual(['k0', 'k1']);
  } finally {
    await Promise.all(stores.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  }
});

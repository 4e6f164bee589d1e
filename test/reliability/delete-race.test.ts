// DeleteIndex racing PutVectors on the same index ends as on AWS: every PutVectors either lands
// before the delete (200) or answers NotFoundException; nothing answers 500; the deleted indexes
// leave no table behind in the data folder; and no PutVectors succeeds into an index whose
// CreateIndex backed out (its bucket was being deleted at the same time).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateIndexCommand,
  CreateVectorBucketCommand,
  DeleteIndexCommand,
  DeleteVectorBucketCommand,
  PutVectorsCommand,
  type S3VectorsClient,
} from '@aws-sdk/client-s3vectors';
import { runMaintenanceOnce } from '../../lambdas/maintenance/maintenance';
import { clientFor, startTestService, uniqueName, type TestService } from '../helpers/service';

jest.setTimeout(240_000);

const DIM = 4;
let t: TestService;
let clients: S3VectorsClient[];
beforeAll(async () => {
  t = await startTestService();
  clients = Array.from({ length: 6 }, () => clientFor(t.url));
});
afterAll(async () => {
  clients.forEach((c) => c.destroy());
  await t.close();
});

interface Outcome {
  op: string;
  status: number;
  name?: string;
  message?: string;
}

async function outcome(op: string, promise: Promise<unknown>): Promise<Outcome> {
  try {
    await promise;
    return { op, status: 200 };
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    return { op, status: e.$metadata?.httpStatusCode ?? 0, name: e.name, message: e.message };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function put(client: S3VectorsClient, vectorBucketName: string, indexName: string, key: string) {
  return client.send(
    new PutVectorsCommand({ vectorBucketName, indexName, vectors: [{ key, data: { float32: [1, 2, 3, 4].map((v) => v + key.length) } }] }),
  );
}

/** Table folders in the data directory (the maintenance state table aside). */
function tableDirs(): string[] {
  const root = join(t.dataDir, 'vectors');
  return existsSync(root) ? readdirSync(root).filter((name) => !name.startsWith('_')) : [];
}

test('PutVectors racing DeleteIndex: 200 or NotFoundException, and no table left behind', async () => {
  const bucket = uniqueName('del');
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: bucket }));
  const outcomes: Outcome[] = [];
  for (let round = 0; round < 15; round++) {
    const indexName = uniqueName('i');
    await t.client.send(new CreateIndexCommand({ vectorBucketName: bucket, indexName, dataType: 'float32', dimension: DIM, distanceMetric: 'euclidean' }));
    // Some rounds already have a table, some race the write that creates it.
    if (round % 2 === 0) await put(t.client, bucket, indexName, 'first');
    const puts = clients.map(async (client, c) => {
      const results: Outcome[] = [];
      for (let i = 0; i < 5; i++) {
        results.push(await outcome('PutVectors', put(client, bucket, indexName, `k${c}-${i}`)));
        if (results[results.length - 1].status === 404) break;
      }
      return results;
    });
    const deletion = (async () => {
      await sleep(5 + (round % 5) * 7);
      return outcome('DeleteIndex', t.client.send(new DeleteIndexCommand({ vectorBucketName: bucket, indexName })));
    })();
    const [deleted, ...written] = await Promise.all([deletion, ...puts]);
    outcomes.push(deleted, ...written.flat());
  }
  const unexpected = outcomes.filter((o) => !(o.status === 200 || (o.status === 404 && o.name === 'NotFoundException')));
  expect(unexpected).toEqual([]);
  expect(outcomes.filter((o) => o.op === 'DeleteIndex' && o.status !== 200)).toEqual([]);
  // Every index is deleted: no table of theirs may stay on disk.
  expect(tableDirs()).toEqual([]);
  await t.client.send(new DeleteVectorBucketCommand({ vectorBucketName: bucket }));
});

test('no PutVectors lands in an index whose CreateIndex backed out', async () => {
  const violations: string[] = [];
  const unexpected: Outcome[] = [];
  for (let round = 0; round < 20; round++) {
    const bucket = uniqueName('gone');
    const indexName = 'idx';
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: bucket }));
    let created: Outcome | undefined;
    const putResults: Outcome[] = [];
    const creating = outcome('CreateIndex', clients[0].send(new CreateIndexCommand({ vectorBucketName: bucket, indexName, dataType: 'float32', dimension: DIM, distanceMetric: 'euclidean' }))).then((o) => (created = o));
    const writing = Promise.all(
      clients.slice(1).map(async (client, c) => {
        for (let i = 0; i < 40 && !created; i++) {
          const o = await outcome('PutVectors', put(client, bucket, indexName, `k${c}-${i}`));
          putResults.push(o);
          if (o.status !== 200 && o.status !== 404) unexpected.push(o);
        }
      }),
    );
    const deleting = (async () => {
      await sleep(round % 4);
      return outcome('DeleteVectorBucket', clients[0].send(new DeleteVectorBucketCommand({ vectorBucketName: bucket })));
    })();
    await Promise.all([creating, writing, deleting]);
    if (created!.status !== 200 && putResults.some((o) => o.status === 200)) violations.push(`${bucket}: CreateIndex ${created!.status}, yet a PutVectors answered 200`);
    if (created!.status === 200) {
      await outcome('DeleteIndex', t.client.send(new DeleteIndexCommand({ vectorBucketName: bucket, indexName })));
      await outcome('DeleteVectorBucket', t.client.send(new DeleteVectorBucketCommand({ vectorBucketName: bucket })));
    }
  }
  expect(unexpected).toEqual([]);
  expect(violations).toEqual([]);
  expect(tableDirs()).toEqual([]);
});

test('maintenance removes the table of an index deleted without its drop', async () => {
  const bucket = uniqueName('orph');
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: bucket }));
  for (const indexName of ['kept', 'orphaned']) {
    await t.client.send(new CreateIndexCommand({ vectorBucketName: bucket, indexName, dataType: 'float32', dimension: DIM, distanceMetric: 'euclidean' }));
    await put(t.client, bucket, indexName, 'a');
  }
  const kept = (await t.service.deps.catalog.getIndex(bucket, 'kept'))!.storageId;
  const orphaned = (await t.service.deps.catalog.getIndex(bucket, 'orphaned'))!.storageId;
  // The catalog entry goes, the table stays: what a crash between the two steps of DeleteIndex, or
  // another process committing during the drop, leaves.
  await t.service.deps.catalog.deleteIndex(bucket, 'orphaned');
  expect(tableDirs().sort()).toEqual([`${kept}.lance`, `${orphaned}.lance`].sort());
  await runMaintenanceOnce(t.service.deps);
  expect(tableDirs()).toEqual([`${kept}.lance`]);
  await t.client.send(new DeleteIndexCommand({ vectorBucketName: bucket, indexName: 'kept' }));
  expect(tableDirs()).toEqual([]);
  await t.client.send(new DeleteVectorBucketCommand({ vectorBucketName: bucket }));
});

// One catalog read per request on the shared catalog (lambdas/cluster/request-catalog.ts), and the
// contract it must keep: what one process acknowledged (DeleteIndex, DeleteVectorBucket, an index
// re-created under the same name) is what the next request on another process sees; and once a
// request touched the store, its catalog reads are fresh again (the deleted-meanwhile check).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateIndexCommand,
  CreateVectorBucketCommand,
  DeleteIndexCommand,
  DeleteVectorBucketCommand,
  GetIndexCommand,
  GetVectorsCommand,
  ListIndexesCommand,
  ListVectorsCommand,
  PutVectorsCommand,
  QueryVectorsCommand,
  type S3VectorsClient,
} from '@aws-sdk/client-s3vectors';
import { countingProxy, type DynamoCall } from '../../bench/s3-backend';
import { DynamoCatalog } from '../../lambdas/adapters/dynamo-catalog';
import { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { requestDeps } from '../../lambdas/cluster/request-catalog';
import { serviceConfigFromEnv } from '../../lambdas/core/config';
import type { Deps } from '../../lambdas/core/deps';
import type { IndexRecord } from '../../lambdas/core/ports';
import { Cursors } from '../../lambdas/core/pagination/cursors';
import { startDynalite } from '../../lambdas/local/dynalite';
import { clientFor, expectAwsError } from '../helpers/service';
import { ROOT_KEYS, runScript, spawnServer, startBackend, type Backend, type ServerProcess } from './helpers';

jest.setTimeout(240_000);

const bucketRecord = (name: string) => ({ name, arn: `arn:aws:s3vectors:us-east-1:123456789012:bucket/${name}`, creationTime: 1, encryption: { sseType: 'AES256' as const }, defaultIndexMode: 'CLASSIC' as const, tags: {} });
const indexRecord = (bucket: string, name: string, storageId: string): IndexRecord => ({
  bucketName: bucket,
  name,
  arn: `arn:aws:s3vectors:us-east-1:123456789012:bucket/${bucket}/index/${name}`,
  creationTime: 1,
  dataType: 'float32',
  dimension: 2,
  distanceMetric: 'euclidean',
  nonFilterableMetadataKeys: [],
  encryption: { sseType: 'AES256' },
  indexMode: 'CLASSIC',
  tags: {},
  storageId,
});

describe('the request snapshot, in process on dynalite', () => {
  let dynamo: Awaited<ReturnType<typeof startDynalite>>;
  let client: DynamoDBClient;
  let sends = 0;
  let dir: string;
  let store: LanceVectorStore;

  beforeAll(async () => {
    dynamo = await startDynalite();
    client = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    client.middlewareStack.add((next) => (args) => (sends++, next(args)), { step: 'initialize', name: 'countSends' });
    await new DynamoCatalog(client, 'catalog').ensureTable();
    dir = mkdtempSync(join(tmpdir(), 's3v-request-catalog-'));
    store = new LanceVectorStore({ uri: dir });
  });
  afterAll(async () => {
    await store?.close();
    client?.destroy();
    await dynamo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const depsFor = (catalog: DynamoCatalog): Deps => {
    const config = serviceConfigFromEnv({});
    return { config, catalog, store, cursors: new Cursors(catalog, 60, () => Date.now() / 1000), now: () => Date.now() / 1000 };
  };

  test('a request reads its bucket and index once; after it touches the store it reads the catalog again', async () => {
    const catalog = new DynamoCatalog(client, 'catalog');
    // Another process's view of the same catalog.
    const other = new DynamoCatalog(client, 'catalog');
    await catalog.createBucket(bucketRecord('bucket-1'));
    const index = indexRecord('bucket-1', 'index-1', 'store-1');
    await catalog.createIndex(index);
    await store.createIndex(index);

    const deps = requestDeps(depsFor(catalog), catalog, { vectorBucketName: 'bucket-1', indexName: 'index-1' });
    sends = 0;
    expect((await deps.catalog.getBucket('bucket-1'))?.name).toBe('bucket-1');
    expect((await deps.catalog.getIndex('bucket-1', 'index-1'))?.storageId).toBe('store-1');
    expect((await deps.catalog.getIndex('bucket-1', 'index-1'))?.storageId).toBe('store-1');
    expect(sends).toBe(1);

    // Deleted by another process while the request is in the store: the check after the store call
    // must see it (a snapshot here would acknowledge a write into a deleted index).
    await other.deleteIndex('bucket-1', 'index-1');
    await deps.store.put(index, { keys: ['k'], data: new Float32Array([1, 2]), metadata: [undefined] });
    expect(await deps.catalog.getIndex('bucket-1', 'index-1')).toBeUndefined();

    // A new request sees the deletion and the re-created index (a new storageId).
    await other.createIndex({ ...index, storageId: 'store-2' });
    const next = requestDeps(depsFor(catalog), catalog, { indexArn: index.arn });
    expect((await next.catalog.getIndex('bucket-1', 'index-1'))?.storageId).toBe('store-2');
    await store.dropIndex(index);
  });

  test('a catalog write in the request ends the snapshot', async () => {
    const catalog = new DynamoCatalog(client, 'catalog');
    await catalog.createBucket(bucketRecord('bucket-2'));
    const deps = requestDeps(depsFor(catalog), catalog, { vectorBucketName: 'bucket-2', indexName: 'index-2' });
    expect(await deps.catalog.getIndex('bucket-2', 'index-2')).toBeUndefined();
    await deps.catalog.createIndex(indexRecord('bucket-2', 'index-2', 'store-3'));
    expect((await deps.catalog.getIndex('bucket-2', 'index-2'))?.storageId).toBe('store-3');
  });

  test('a name the request does not target is read as before; a hidden (pending) index stays hidden', async () => {
    const catalog = new DynamoCatalog(client, 'catalog');
    await catalog.createBucket(bucketRecord('bucket-3'));
    await catalog.createBucket(bucketRecord('bucket-4'));
    const deps = requestDeps(depsFor(catalog), catalog, { vectorBucketName: 'bucket-3' });
    sends = 0;
    expect((await deps.catalog.getBucket('bucket-4'))?.name).toBe('bucket-4');
    expect((await deps.catalog.getBucket('bucket-3'))?.name).toBe('bucket-3');
    expect(await deps.catalog.getIndex('bucket-3', 'nope')).toBeUndefined();
    expect(sends).toBe(3);
    expect((await catalog.getBucketAndIndex('bucket-3', 'nope')).index).toBeUndefined();
  });
});

describe('two server processes on one backend', () => {
  let backend: Backend;
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  const calls: DynamoCall[] = [];
  const servers: ServerProcess[] = [];
  const clients: S3VectorsClient[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    backend = await startBackend();
    proxy = await countingProxy(backend.env.S3V_DYNAMODB_ENDPOINT, calls);
    const env = { ...backend.env, S3V_DYNAMODB_ENDPOINT: proxy.url, S3V_MAINT: 'off' };
    const setup = await runScript('setup-storage.ts', [], env);
    if (setup.code !== 0) throw new Error(setup.stderr);
    for (let i = 0; i < 2; i++) {
      dirs.push(mkdtempSync(join(tmpdir(), `s3v-request-catalog-p${i}-`)));
      servers.push(await spawnServer(env, dirs[i]));
      clients.push(clientFor(servers[i].url, ROOT_KEYS));
    }
  });
  afterAll(async () => {
    clients.forEach((c) => c.destroy());
    await Promise.all(servers.map((s) => s.stop()));
    proxy?.server.closeAllConnections();
    await new Promise<void>((r) => (proxy ? proxy.server.close(() => r()) : r()));
    await backend?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const [a, b] = [0, 1];
  const vec = (key: string, data: number[]) => ({ key, data: { float32: data } });

  const Bucket = { vectorBucketName: 'shared' };
  const Index = { ...Bucket, indexName: 'idx' };
  const query = (i: number, data = [1, 1]) => clients[i].send(new QueryVectorsCommand({ ...Index, queryVector: { float32: data }, topK: 5, returnMetadata: true }));

  test('one catalog call per QueryVectors', async () => {
    await clients[a].send(new CreateVectorBucketCommand(Bucket));
    await clients[a].send(new CreateIndexCommand({ ...Index, dataType: 'float32', dimension: 2, distanceMetric: 'euclidean' }));
    await clients[a].send(new PutVectorsCommand({ ...Index, vectors: [vec('old', [1, 1])] }));
    expect((await query(b)).vectors?.map((v) => v.key)).toEqual(['old']);

    // Warm, then count: QueryVectors (with returnMetadata: two authorization checks) reads the catalog once.
    await query(b);
    const mark = calls.length;
    await query(b);
    const catalogCalls = calls.slice(mark).filter((c) => c.table === 'catalog');
    expect(catalogCalls.map((c) => c.operation)).toEqual(['BatchGetItem']);
  });

  test('a delete or re-create acknowledged by one process is what the other answers next', async () => {
    expect((await query(b)).vectors?.map((v) => v.key)).toEqual(['old']);

    // Deleted through A: B's next requests answer NotFoundException, never 5xx or old data.
    await clients[a].send(new DeleteIndexCommand(Index));
    await expectAwsError(query(b), 'NotFoundException', 404);
    await expectAwsError(clients[b].send(new PutVectorsCommand({ ...Index, vectors: [vec('late', [2, 2])] })), 'NotFoundException', 404);
    await expectAwsError(clients[b].send(new GetVectorsCommand({ ...Index, keys: ['old'] })), 'NotFoundException', 404);
    await expectAwsError(clients[b].send(new GetIndexCommand(Index)), 'NotFoundException', 404);

    // Re-created through A with another dimension: B serves the new index, empty, with its dimension.
    await clients[a].send(new CreateIndexCommand({ ...Index, dataType: 'float32', dimension: 3, distanceMetric: 'cosine' }));
    await expectAwsError(query(b, [1, 1]), 'ValidationException', 400);
    expect((await query(b, [1, 1, 1])).vectors).toEqual([]);
    await clients[b].send(new PutVectorsCommand({ ...Index, vectors: [vec('new', [1, 2, 3])] }));
    expect((await clients[a].send(new ListVectorsCommand(Index))).vectors?.map((v) => v.key)).toEqual(['new']);
    expect((await clients[b].send(new GetIndexCommand(Index))).index?.dimension).toBe(3);

    // The bucket deleted through A: B answers NotFoundException for it and for its index.
    await clients[a].send(new DeleteIndexCommand(Index));
    await clients[a].send(new DeleteVectorBucketCommand(Bucket));
    await expectAwsError(clients[b].send(new ListIndexesCommand(Bucket)), 'NotFoundException', 404);
    await expectAwsError(clients[b].send(new CreateIndexCommand({ ...Index, dataType: 'float32', dimension: 2, distanceMetric: 'euclidean' })), 'NotFoundException', 404);
    await expectAwsError(query(b), 'NotFoundException', 404);
  });
});

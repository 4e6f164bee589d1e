// Three server processes on one backend (s3rver + dynalite) behave as one service: seeded mixed
// traffic round-robin, one process SIGKILLed mid-run and restarted; afterwards every acknowledged
// vector is there with its exact value and metadata, nothing deleted comes back, no 5xx except the
// killed process's dropped connection, reads on one process see writes acknowledged by another.
import { writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateIndexCommand,
  CreateVectorBucketCommand,
  DeleteIndexCommand,
  DeleteVectorBucketCommand,
  DeleteVectorsCommand,
  GetIndexCommand,
  GetVectorsCommand,
  ListIndexesCommand,
  ListVectorBucketsCommand,
  ListVectorsCommand,
  PutVectorsCommand,
  QueryVectorsCommand,
  type S3VectorsClient,
} from '@aws-sdk/client-s3vectors';
import { clientFor } from '../helpers/service';
import { ROOT_KEYS, runScript, spawnServer, startBackend, type Backend, type ServerProcess } from './helpers';

jest.setTimeout(600_000);

const BUCKET = 'shared';
const INDEX = 'main';
const DIM = 4;
const KEYS = 40;
const OPS = 200;
const KILL_AT = 70;

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Vector = { data: number[]; metadata: Record<string, string | number | boolean | string[]> };
const status = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;

let backend: Backend;
const servers: ServerProcess[] = [];
const clients: S3VectorsClient[] = [];
const dataDirs: string[] = [];
/** A restart in flight (awaited before the backend goes away, even when the test failed). */
let restarting: Promise<void> | undefined;

async function start(i: number): Promise<void> {
  dataDirs[i] ??= mkdtempSync(join(tmpdir(), `s3v-cluster-p${i}-`));
  servers[i] = await spawnServer({ ...backend.env, S3V_MAINT: 'off' }, dataDirs[i]);
  clients[i]?.destroy();
  clients[i] = clientFor(servers[i].url, ROOT_KEYS);
}

beforeAll(async () => {
  backend = await startBackend();
  const setup = await runScript('setup-storage.ts', [], backend.env);
  if (setup.code !== 0) throw new Error(setup.stderr);
  await Promise.all([0, 1, 2].map(start));
});

afterAll(async () => {
  await restarting?.catch(() => undefined);
  for (const c of clients) c?.destroy();
  await Promise.all(servers.map((s) => s?.stop()));
  await backend?.close();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

test('seeded mixed traffic through three processes, one killed and restarted: nothing acknowledged lost, nothing deleted back', async () => {
  const rand = mulberry32(20261201);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const key = (n: number) => `k${n}`;
  const model = new Map<string, Vector | 'deleted'>();
  const uncertain = new Set<string>();
  const serverErrors: string[] = [];
  let down = -1;
  let turn = 0;
  const next = () => {
    for (;;) {
      const i = turn++ % 3;
      if (i !== down) return i;
    }
  };
  /** Runs `fn` on process `i`; a 5xx is recorded, any other failure fails the test. */
  const on = async <T>(i: number, what: string, fn: (c: S3VectorsClient) => Promise<T>): Promise<T> => {
    try {
      return await fn(clients[i]);
    } catch (e) {
      if ((status(e) ?? 0) >= 500) serverErrors.push(`${what} on p${i}: ${status(e)} ${(e as Error).name}`);
      throw e;
    }
  };
  const newVector = (): Vector => ({
    data: Array.from({ length: DIM }, () => Math.fround(rand() * 2 - 1)),
    metadata: { genre: pick(['a', 'b', 'c']), n: Math.floor(rand() * 1000), tags: [pick(['x', 'y']), pick(['z', 'w'])], ok: rand() < 0.5 },
  });
  const putVectors = (c: S3VectorsClient, batch: [string, Vector][]) =>
    c.send(new PutVectorsCommand({ vectorBucketName: BUCKET, indexName: INDEX, vectors: batch.map(([k, v]) => ({ key: k, data: { float32: v.data }, metadata: v.metadata })) }));

  /** What GetVectors answered against the model: only certain keys are checked. */
  const checkGet = (found: { key?: string; data?: { float32?: number[] }; metadata?: unknown }[], asked: string[], where: string) => {
    const byKey = new Map(found.map((v) => [v.key!, v]));
    for (const k of asked) {
      if (uncertain.has(k) || !model.has(k)) continue;
      const expected = model.get(k)!;
      if (expected === 'deleted') expect({ where, k, found: byKey.has(k) }).toEqual({ where, k, found: false });
      else expect({ where, k, data: byKey.get(k)?.data?.float32, metadata: byKey.get(k)?.metadata }).toEqual({ where, k, data: expected.data, metadata: expected.metadata });
    }
  };

  const listAll = async (): Promise<Set<string>> => {
    const keys = new Set<string>();
    let nextToken: string | undefined;
    do {
      // Each page from the next process: the token one process issued is honoured by another.
      const page = await on(next(), 'ListVectors', (c) => c.send(new ListVectorsCommand({ vectorBucketName: BUCKET, indexName: INDEX, maxResults: 7, nextToken })));
      for (const v of page.vectors ?? []) keys.add(v.key!);
      nextToken = page.nextToken;
    } while (nextToken);
    return keys;
  };
  const checkList = (listed: Set<string>) => {
    for (const [k, v] of model) {
      if (uncertain.has(k)) continue;
      expect({ k, listed: listed.has(k) }).toEqual({ k, listed: v !== 'deleted' });
    }
  };

  await on(0, 'CreateVectorBucket', (c) => c.send(new CreateVectorBucketCommand({ vectorBucketName: BUCKET })));
  await on(1, 'CreateIndex', (c) => c.send(new CreateIndexCommand({ vectorBucketName: BUCKET, indexName: INDEX, dataType: 'float32', dimension: DIM, distanceMetric: 'euclidean' })));
  // Created through p1, visible through p2 at once.
  expect((await on(2, 'GetIndex', (c) => c.send(new GetIndexCommand({ vectorBucketName: BUCKET, indexName: INDEX })))).index?.dimension).toBe(DIM);

  let crossProcessQueries = 0;
  for (let op = 0; op < OPS; op++) {
    if (op === KILL_AT) {
      // A write in flight when its process dies: its outcome is unknown, either is allowed.
      const victim = next();
      const batch: [string, Vector][] = [0, 1, 2].map(() => [key(Math.floor(rand() * KEYS)), newVector()]);
      const inflight = putVectors(clients[victim], batch).then(
        () => batch.forEach(([k, v]) => (uncertain.delete(k), model.set(k, v))),
        () => undefined,
      );
      batch.forEach(([k]) => uncertain.add(k));
      await new Promise((r) => setTimeout(r, 15));
      servers[victim].child.kill('SIGKILL');
      await inflight;
      down = victim;
      restarting = start(victim).then(() => {
        down = -1;
      });
      continue;
    }
    const i = next();
    const r = rand();
    if (r < 0.4) {
      const batch = new Map<string, Vector>();
      for (let n = 1 + Math.floor(rand() * 4); n > 0; n--) batch.set(key(Math.floor(rand() * KEYS)), newVector());
      await on(i, 'PutVectors', (c) => putVectors(c, [...batch]));
      for (const [k, v] of batch) {
        model.set(k, v);
        uncertain.delete(k);
      }
      // Read-after-write on another process: GetVectors, and a query for the exact vector.
      const [k, v] = [...batch][0];
      const j = next();
      const got = await on(j, 'GetVectors', (c) => c.send(new GetVectorsCommand({ vectorBucketName: BUCKET, indexName: INDEX, keys: [k], returnData: true, returnMetadata: true })));
      checkGet(got.vectors ?? [], [k], `get after put on p${i}, read on p${j}`);
      const q = await on(next(), 'QueryVectors', (c) =>
        c.send(new QueryVectorsCommand({ vectorBucketName: BUCKET, indexName: INDEX, queryVector: { float32: v.data }, topK: 1, returnMetadata: true, returnDistance: true })),
      );
      expect({ key: q.vectors?.[0]?.key, metadata: q.vectors?.[0]?.metadata }).toEqual({ key: k, metadata: v.metadata });
      crossProcessQueries++;
    } else if (r < 0.55) {
      const keys = [...new Set([0, 1, 2].slice(0, 1 + Math.floor(rand() * 3)).map(() => key(Math.floor(rand() * KEYS))))];
      await on(i, 'DeleteVectors', (c) => c.send(new DeleteVectorsCommand({ vectorBucketName: BUCKET, indexName: INDEX, keys })));
      for (const k of keys) {
        model.set(k, 'deleted');
        uncertain.delete(k);
      }
    } else if (r < 0.8) {
      const keys = [...new Set(Array.from({ length: 1 + Math.floor(rand() * 6) }, () => key(Math.floor(rand() * KEYS))))];
      const got = await on(i, 'GetVectors', (c) => c.send(new GetVectorsCommand({ vectorBucketName: BUCKET, indexName: INDEX, keys, returnData: true, returnMetadata: true })));
      checkGet(got.vectors ?? [], keys, `get on p${i}`);
    } else if (r < 0.9) {
      checkList(await listAll());
    } else {
      // Index lifecycle across processes, and a CreateIndex race: exactly one wins.
      const name = `tmp-${op}`;
      const [a, b] = [next(), next()];
      const results = await Promise.allSettled(
        [a, b].map((p) => on(p, 'CreateIndex', (c) => c.send(new CreateIndexCommand({ vectorBucketName: BUCKET, indexName: name, dataType: 'float32', dimension: DIM, distanceMetric: 'cosine' })))),
      );
      expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((x) => x.status === 'rejected') as PromiseRejectedResult;
      expect((lost.reason as Error).name).toBe('ConflictException');
      await on(next(), 'PutVectors', (c) => c.send(new PutVectorsCommand({ vectorBucketName: BUCKET, indexName: name, vectors: [{ key: 'x', data: { float32: [1, 0, 0, 0] } }] })));
      await on(next(), 'DeleteIndex', (c) => c.send(new DeleteIndexCommand({ vectorBucketName: BUCKET, indexName: name })));
      const p = next();
      await expect(on(p, 'GetIndex', (c) => c.send(new GetIndexCommand({ vectorBucketName: BUCKET, indexName: name })))).rejects.toMatchObject({ name: 'NotFoundException' });
      const listed = await on(next(), 'ListIndexes', (c) => c.send(new ListIndexesCommand({ vectorBucketName: BUCKET })));
      expect(listed.indexes?.map((x) => x.indexName)).toEqual([INDEX]);
      // The same for buckets: one CreateVectorBucket wins, the deletion is seen everywhere at once.
      const bucket = `tmp-bucket-${op}`;
      const made = await Promise.allSettled([next(), next()].map((p) => on(p, 'CreateVectorBucket', (c) => c.send(new CreateVectorBucketCommand({ vectorBucketName: bucket })))));
      expect(made.map((x) => (x.status === 'fulfilled' ? 'ok' : (x.reason as Error).name)).sort()).toEqual(['ConflictException', 'ok']);
      await on(next(), 'DeleteVectorBucket', (c) => c.send(new DeleteVectorBucketCommand({ vectorBucketName: bucket })));
      const buckets = await on(next(), 'ListVectorBuckets', (c) => c.send(new ListVectorBucketsCommand({})));
      expect(buckets.vectorBuckets?.map((x) => x.vectorBucketName)).toEqual([BUCKET]);
    }
  }
  await restarting;
  expect(down).toBe(-1);
  expect(serverErrors).toEqual([]);
  expect(crossProcessQueries).toBeGreaterThan(20);

  // Afterwards, through every process (the restarted one too): the whole key space, and the listing.
  const all = Array.from({ length: KEYS }, (_, n) => key(n));
  for (const i of [0, 1, 2]) {
    const got = await on(i, 'GetVectors', (c) => c.send(new GetVectorsCommand({ vectorBucketName: BUCKET, indexName: INDEX, keys: all, returnData: true, returnMetadata: true })));
    checkGet(got.vectors ?? [], all, `final get on p${i}`);
    const keys = (got.vectors ?? []).map((v) => v.key!);
    expect(new Set(keys).size).toBe(keys.length);
  }
  checkList(await listAll());
  expect(serverErrors).toEqual([]);
});

test('IAM users live in the shared catalog: created with `npm run iam`, accepted by every process', async () => {
  const env = backend.env;
  expect((await runScript('iam.ts', ['create-user', 'alice'], env)).code).toBe(0);
  const created = await runScript('iam.ts', ['create-access-key', 'alice', '--json'], env);
  expect(created.code).toBe(0);
  const key = JSON.parse(created.stdout.trim().split('\n').pop()!) as { accessKeyId: string; secretAccessKey: string };
  const policy = join(backend.dir, 'policy.json');
  writeFileSync(policy, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3vectors:ListVectorBuckets', Resource: '*' }] }));
  expect((await runScript('iam.ts', ['attach-policy', 'alice', 'list', policy], env)).code).toBe(0);
  for (const server of servers) {
    const alice = clientFor(server.url, { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey });
    try {
      const out = await alice.send(new ListVectorBucketsCommand({}));
      expect(out.vectorBuckets?.map((b) => b.vectorBucketName)).toContain(BUCKET);
      await expect(alice.send(new DeleteIndexCommand({ vectorBucketName: BUCKET, indexName: INDEX }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    } finally {
      alice.destroy();
    }
  }
});

// Measures the hot index on Fashion-MNIST (not a test: `npx tsx test/hot/measure-hot.ts prepare|measure DIR`).
// prepare: ingest the 60k train images through the SDK (4 callers × 500) into DIR, then catch up
//          maintenance (the HNSW_SQ index, as `npm run status` shows settled).
// measure: in one run, on DIR: (1) the server with the hot index off: API p50/p99/recall and raw
//          LanceDB in process on the same table; (2) hot on: build time, RSS, the same figures;
//          (3) a restart: time to load the saved snapshot, figures again.
import { execSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CreateIndexCommand, CreateVectorBucketCommand, PutVectorsCommand, QueryVectorsCommand, type S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { fashionMnist } from '../../bench/datasets';
import { groundTruth, recallAt, rowNorms } from '../../bench/groundtruth';
import { RawLance } from '../../bench/raw-lance';
import { startS3Vectors, type S3VectorsServer } from '../../lambdas/embed';
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';

const [mode, dir] = process.argv.slice(2);
const QUERIES = 300;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const ref = { vectorBucketName: 'bench', indexName: 'fmnist' };
const log = (...a: unknown[]) => console.log(new Date().toISOString().slice(11, 19), ...a);
const ds = fashionMnist(60_000, QUERIES, (l) => log(l));
const rss = () => Math.round(process.memoryUsage().rss / 2 ** 20);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const CREDS = { accessKeyId: 'AKIDBENCHROOT0000000', secretAccessKey: 'bench-root-secret-key-00000000000000000' };

async function start(env: Record<string, string>): Promise<S3VectorsServer> {
  return startS3Vectors({ dataDir: dir, persist: true, env, auth: CREDS, maintenance: false });
}

async function prepare() {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const server = await start({ S3V_HOT_INDEX_MB: '0' });
  const client = server.client();
  await client.send(new CreateVectorBucketCommand({ vectorBucketName: ref.vectorBucketName }));
  await client.send(new CreateIndexCommand({ ...ref, dataType: 'float32', dimension: ds.dimension, distanceMetric: 'euclidean' }));
  const t0 = Date.now();
  let next = 0;
  const caller = async () => {
    for (let s; (s = next) < ds.count; ) {
      next += 500;
      const vectors = [];
      for (let i = s; i < Math.min(ds.count, s + 500); i++) vectors.push({ key: ds.key(i), data: { float32: Array.from(ds.vectors.subarray(i * ds.dimension, (i + 1) * ds.dimension)) }, metadata: ds.metadata(i) });
      await client.send(new PutVectorsCommand({ ...ref, vectors }));
    }
  };
  await Promise.all([caller(), caller(), caller(), caller()]);
  log(`ingest ${ds.count} in ${Date.now() - t0} ms`);
  const m0 = Date.now();
  await server.runMaintenance();
  log(`maintenance caught up in ${Date.now() - m0} ms`);
  await server.stop();
}

async function truth() {
  const cacheDir = '/tmp/hot-gt';
  mkdirSync(cacheDir, { recursive: true });
  const cached = '/tmp/fresh/bench/results/.cache/gt-fmnist-60000-300-v1-all-k100-q300.bin';
  if (existsSync(cached)) copyFileSync(cached, join(cacheDir, 'gt-fmnist-60000-300-v1-all-k100-q300.bin'));
  const norms = rowNorms(ds);
  const { truth: gt } = await groundTruth(ds, norms, 'all', undefined, { k: 100, queryCount: QUERIES, cacheDir });
  return (qi: number, keys: string[]) => recallAt(ds, norms, gt, qi, keys, 10, undefined);
}

async function timed(run: (q: Float32Array) => Promise<string[]>, recall: (qi: number, keys: string[]) => number) {
  const ms: number[] = [];
  let r = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (let qi = 0; qi < QUERIES; qi++) {
      const q = ds.queries.subarray(qi * ds.dimension, (qi + 1) * ds.dimension);
      const t = performance.now();
      const keys = await run(q);
      ms.push(performance.now() - t);
      if (round === 0) r += recall(qi, keys);
    }
  }
  return { p50: +pct(ms, 50).toFixed(2), p99: +pct(ms, 99).toFixed(2), recall: +(r / QUERIES).toFixed(4) };
}

const api = (client: S3VectorsClient) => async (q: Float32Array) =>
  ((await client.send(new QueryVectorsCommand({ ...ref, queryVector: { float32: Array.from(q) }, topK: 10, returnDistance: true }))).vectors ?? []).map((v) => v.key!);

async function measure() {
  const recall = await truth();
  const lanceDir = readdirSync(join(dir, 'vectors')).find((f) => f.endsWith('.lance') && !f.startsWith('_'))!;
  const storageId = lanceDir.slice(0, -'.lance'.length);
  const onDiskMb = Number(execSync(`du -sm ${join(dir, 'vectors', lanceDir)}`).toString().split('\t')[0]);
  log(`table ${storageId}: ${onDiskMb} MB on disk; rss ${rss()} MB before servers`);
  execSync(`rm -rf ${join(dir, 'vectors', '_hot')}`);

  // (1) hot off
  let server = await start({ S3V_HOT_INDEX_MB: '0' });
  let client = server.client();
  await api(client)(ds.queries.subarray(0, ds.dimension));
  const raw = await RawLance.open(dir, storageId, 'euclidean');
  for (let i = 0; i < 20; i++) await raw.query(ds.queries.subarray(0, ds.dimension), 10); // warm
  const off = await timed(api(client), recall);
  const rawFig = await timed((q) => raw.query(q, 10), recall);
  log('hot off: API', off, 'raw LanceDB same table', rawFig, `rss ${rss()} MB`);
  await server.stop();

  // (2) hot on: first build
  const hotEnv = { S3V_HOT_QUIET_MS: '500' };
  server = await start(hotEnv);
  client = server.client();
  const store = server.service.deps.store as LanceVectorStore;
  const rssBefore = rss();
  const b0 = Date.now();
  let lagMax = 0;
  let last = performance.now();
  const lag = setInterval(() => {
    const now = performance.now();
    lagMax = Math.max(lagMax, now - last - 20);
    last = now;
  }, 20);
  while (Object.values(store.hotStats()!.tables)[0]?.phase !== 'ready') {
    await api(client)(ds.queries.subarray(0, ds.dimension));
    await new Promise((r) => setTimeout(r, 200));
  }
  clearInterval(lag);
  const buildMs = Date.now() - b0;
  const served0 = store.hotStats()!.served;
  const on = await timed(api(client), recall);
  const rawOn = await timed((q) => raw.query(q, 10), recall);
  log(`hot on: ready ${buildMs} ms after start (incl. quiet 500 ms); main-thread max event-loop lag ${lagMax.toFixed(1)} ms; served ${store.hotStats()!.served - served0}`);
  log('hot on: API', on, 'raw LanceDB same table', rawOn, `rss ${rss()} MB (before build ${rssBefore} MB)`);
  const hotFiles = execSync(`du -sm ${join(dir, 'vectors', '_hot')}`).toString().trim();
  log(`hot files: ${hotFiles}`);
  await server.stop();

  // (3) restart: load the saved snapshot
  const rssBefore3 = rss();
  server = await start(hotEnv);
  client = server.client();
  const store3 = server.service.deps.store as LanceVectorStore;
  const l0 = Date.now();
  while (Object.values(store3.hotStats()!.tables)[0]?.phase !== 'ready') {
    await api(client)(ds.queries.subarray(0, ds.dimension));
    await new Promise((r) => setTimeout(r, 20));
  }
  const loadMs = Date.now() - l0;
  const again = await timed(api(client), recall);
  log(`restart: hot ready ${loadMs} ms after the first query; stats ${JSON.stringify({ ...store3.hotStats(), tables: undefined })}`);
  log('restart: API', again, `rss ${rss()} MB (before ${rssBefore3} MB)`);
  await server.stop();
  console.log(JSON.stringify({ onDiskMb, off, rawFig, buildMs, lagMax, on, rawOn, loadMs, again }));
}

(mode === 'prepare' ? prepare() : measure()).then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);

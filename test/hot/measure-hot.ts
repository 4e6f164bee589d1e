// Measures the hot index on Fashion-MNIST (not a test: `npx tsx test/hot/measure-hot.ts prepare|measure DIR`).
// prepare: ingest the 60k train images through the SDK (4 callers × 500) into DIR, then catch up
//          maintenance (the HNSW_SQ index, as `npm run status` shows settled).
// measure: in one run, on DIR: (1) the server with the hot index off: API p50/p99/recall and raw
//          LanceDB in process on the same table; (2) hot on: build time, RSS, the same figures;
//          (3) a restart: time to load the saved snapshot, figures again.
import { execSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
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

async function start(env: Record<string, string>, dataDir = dir): Promise<S3VectorsServer> {
  // The store reads S3V_HOT_* from process.env when it is created (the embed `env` does not reach it).
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await startS3Vectors({ dataDir, persist: true, env, auth: CREDS, maintenance: false });
  } finally {
    for (const name of Object.keys(env)) if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
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

const api = (client: S3VectorsClient, returnMetadata = false) => async (q: Float32Array) =>
  ((await client.send(new QueryVectorsCommand({ ...ref, queryVector: { float32: Array.from(q) }, topK: 10, returnDistance: true, returnMetadata }))).vectors ?? []).map((v) => v.key!);

/** Resident MB of this process's mappings of hot snapshot files (the index is memory-mapped). */
function mappedHotMb(): number {
  let kb = 0;
  let inHot = false;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inHot = line.includes('.usearch');
    else if (inHot && line.startsWith('Rss:')) kb += Number(line.split(/\s+/)[1]);
  }
  return Math.round(kb / 1024);
}

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

/**
 * A/B in one process, interleaved query by query so the machine's load falls on both alike: server
 * A (hot off) on DIR, server B (hot on) on a copy of DIR, raw LanceDB on A's table.
 */
async function ab() {
  const recall = await truth();
  const copy = `${dir}-b`;
  execSync(`rm -rf ${copy} && cp -a ${dir} ${copy}`);
  const lanceDir = readdirSync(join(dir, 'vectors')).find((f) => f.endsWith('.lance') && !f.startsWith('_'))!;
  const storageId = lanceDir.slice(0, -'.lance'.length);
  const a = await start({ S3V_HOT_INDEX_MB: '0' });
  const rss0 = rss();
  const b = await start({ S3V_HOT_QUIET_MS: '500' }, copy);
  const ca = a.client();
  const cb = b.client();
  const store = b.service.deps.store as LanceVectorStore;
  const t0 = Date.now();
  while (Object.values(store.hotStats()!.tables)[0]?.phase !== 'ready') {
    await api(cb)(ds.queries.subarray(0, ds.dimension));
    await new Promise((r) => setTimeout(r, 50));
  }
  log(`B ready ${Date.now() - t0} ms after its first query (${JSON.stringify({ ...store.hotStats(), tables: undefined })}), rss +${rss() - rss0} MB`);
  const raw = await RawLance.open(dir, storageId, 'euclidean');
  const runs: Record<string, (q: Float32Array) => Promise<string[]>> = {
    apiOff: api(ca),
    apiHot: api(cb),
    raw: (q: Float32Array) => raw.query(q, 10),
    ...(process.env.META ? { apiOffMeta: api(ca, true), apiHotMeta: api(cb, true) } : {}),
  };
  const ms: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((n) => [n, []]));
  const rec: Record<string, number> = Object.fromEntries(Object.keys(runs).map((n) => [n, 0]));
  for (let i = 0; i < 30; i++) for (const run of Object.values(runs)) await run(ds.queries.subarray(i * ds.dimension, (i + 1) * ds.dimension));
  for (let round = 0; round < ROUNDS; round++) {
    for (let qi = 0; qi < QUERIES; qi++) {
      const q = ds.queries.subarray(qi * ds.dimension, (qi + 1) * ds.dimension);
      for (const [name, run] of Object.entries(runs)) {
        const t = performance.now();
        const keys = await run(q);
        ms[name].push(performance.now() - t);
        if (round === 0) rec[name] += recall(qi, keys);
      }
    }
  }
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(runs)) out[name] = { p50: +pct(ms[name], 50).toFixed(2), p99: +pct(ms[name], 99).toFixed(2), recall: +(rec[name] / QUERIES).toFixed(4) };
  log('interleaved', JSON.stringify(out), `rss +${rss() - rss0} MB for server B, of which ${mappedHotMb()} MB resident of the mapped hot index (file ${execSync(`du -sm ${join(copy, 'vectors', '_hot')}`).toString().split('\t')[0]} MB)`);
  await a.stop();
  await b.stop();
  execSync(`rm -rf ${copy}`);
}

/** A fresh build (no saved snapshot) on a copy of DIR with the S3V_HOT_* settings of the environment: time to ready, recall. */
async function build() {
  const recall = await truth();
  const copy = `${dir}-build`;
  execSync(`rm -rf ${copy} && cp -a ${dir} ${copy} && rm -rf ${copy}/vectors/_hot`);
  const b = await start({ S3V_HOT_QUIET_MS: '500' }, copy);
  const cb = b.client();
  const store = b.service.deps.store as LanceVectorStore;
  const t0 = Date.now();
  let lag = 0;
  let last = performance.now();
  const tick = setInterval(() => ((lag = Math.max(lag, performance.now() - last - 50)), (last = performance.now())), 50);
  while (Object.values(store.hotStats()!.tables)[0]?.phase !== 'ready') await new Promise((r) => setTimeout(r, 200)).then(() => api(cb)(ds.queries.subarray(0, ds.dimension)));
  clearInterval(tick);
  log(`built and ready ${Date.now() - t0} ms after the first query (quiet 500 ms); max timer lag meanwhile ${lag.toFixed(0)} ms`);
  const fig = await timed(api(cb), recall);
  log('after build: API', fig);
  await b.stop();
  execSync(`rm -rf ${copy}`);
}

(mode === 'prepare' ? prepare() : mode === 'ab' ? ab() : mode === 'build' ? build() : measure()).then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);

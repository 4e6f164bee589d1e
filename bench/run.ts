// `npm run bench`: the benchmark of issue 7. Starts the real server as a child process, drives it
// through @aws-sdk/client-s3vectors over HTTP, runs the same queries in process against raw
// LanceDB, scores recall against exact brute force, and writes a table plus a JSON file.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as cliProgress from 'cli-progress';
import type { S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { createIndex, ingest, nullServer, sdkClient, timedQueries, type TimedQueries } from './client';
import { fashionMnist, synthetic, uniformVectors, type Dataset, type PredicateSpec } from './datasets';
import { groundTruth, recallAt, rowNorms, type GroundTruth } from './groundtruth';
import { chooseDriver, maintenanceLog, type MaintenanceOutcome } from './maintenance';
import { RawLance } from './raw-lance';
import { fmtInt, fmtRecall, table } from './report';
import { findStorageId, folderBytes, REPO_ROOT, sampleMemory, ServerProcess } from './server';
import { fmtMs, mean, mib, round, summarize, type LatencySummary } from './stats';
import { userFlow, userFlowTable, type UserFlowResult } from './user-flow';

const HELP = `Usage: npm run bench -- [options]
  --flow user|classic                     user (default): one default server, ingest with maintenance on, wait
                                          until settled, query; classic: the issue-7 phases (see bench/README.md)
  --dataset fashion-mnist|synthetic|all   which data (default all)
  --size 100k|1m                          synthetic set size (default 100k)
  --queries N                             timed queries per kind after maintenance (default 1000)
  --before-queries N                      timed queries per kind before maintenance (default min(N, 200))
  --concurrency N                         concurrent PutVectors callers (default 4)
  --maintenance auto|server|bench|none    how the index catches up (default auto; see bench/README.md)
  --no-small                              skip the issue-2/6 figures (PutVectors 500×1024, 10k query, auth)
  --quick                                 small sizes for a smoke run (about a minute)
  --keep                                  keep the servers' data directories
  --out FILE                              JSON results (default bench/results/<dataset>-<time>.json)`;

const { values: args } = parseArgs({
  options: {
    flow: { type: 'string', default: 'user' },
    dataset: { type: 'string', default: 'all' },
    size: { type: 'string', default: '100k' },
    queries: { type: 'string' },
    'before-queries': { type: 'string' },
    concurrency: { type: 'string', default: '4' },
    maintenance: { type: 'string', default: 'auto' },
    'no-small': { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  console.log(HELP);
  process.exit(0);
}

const quick = args.quick!;
const positive = (name: string, raw: string | undefined, fallback: number): number => {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
};
const QUERIES = positive('queries', args.queries, quick ? 100 : 1000);
const BEFORE_QUERIES = positive('before-queries', args['before-queries'], Math.min(QUERIES, quick ? 50 : 200));
const CONCURRENCY = positive('concurrency', args.concurrency, 4);
const WARMUP = quick ? 5 : 20;
const BATCH = 500;
const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');
const CACHE_DIR = join(RESULTS_DIR, '.cache');
const RUN_DIR = mkdtempSync(join(tmpdir(), 's3v-bench-'));
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);

if (!['fashion-mnist', 'synthetic', 'all'].includes(args.dataset!)) throw new Error('--dataset must be fashion-mnist, synthetic or all');
if (!['100k', '1m'].includes(args.size!)) throw new Error('--size must be 100k or 1m');
if (!['user', 'classic'].includes(args.flow!)) throw new Error('--flow must be user or classic');
const maintenanceDriver = chooseDriver(args.maintenance!);

function log(line: string): void {
  const t = new Date().toISOString().slice(11, 19);
  console.log(`[${t}] ${line}`);
}

function bar(label: string, total: number): cliProgress.SingleBar {
  const b = new cliProgress.SingleBar(
    { format: `  ${label.padEnd(34)} [{bar}] {percentage}% | {value}/{total} | eta {eta_formatted}`, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  b.start(total, 0);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Query phases

interface KindResult {
  kind: string;
  topK: number;
  filter?: string;
  selectivity?: number;
  api: LatencySummary;
  raw: LatencySummary;
  /** API p50 minus raw LanceDB p50, ms. */
  addedP50: number;
  recallK: number;
  recallApi: number;
  recallRaw: number;
}

interface Kind {
  kind: string;
  topK: number;
  filter?: Dataset['filters'][number];
  truth: GroundTruth;
}

async function queryPhase(
  label: string,
  ds: Dataset,
  norms: Float64Array,
  client: S3VectorsClient,
  raw: RawLance,
  kinds: Kind[],
  queryCount: number,
  bucket: string,
  index: string,
): Promise<KindResult[]> {
  const sdkVectors = Array.from({ length: queryCount }, (_, qi) => Array.from(ds.queries.subarray(qi * ds.dimension, (qi + 1) * ds.dimension)));
  const rawVectors = Array.from({ length: queryCount }, (_, qi) => ds.queries.slice(qi * ds.dimension, (qi + 1) * ds.dimension));
  const out: KindResult[] = [];
  for (const kind of kinds) {
    const filter = kind.filter?.filter;
    const b = bar(`${label} ${kind.kind}`, queryCount * 2);
    let api: TimedQueries;
    let rawRun: TimedQueries;
    try {
      api = await timedQueries(client, { bucket, index, topK: kind.topK, filter }, sdkVectors, { warmup: WARMUP, onQuery: () => b.increment() });
      rawRun = await raw.timed(rawVectors, kind.topK, filter, { warmup: WARMUP, onQuery: () => b.increment() });
    } finally {
      b.stop();
    }
    const recallK = Math.min(kind.topK, kind.truth.k);
    const spec = (qi: number): PredicateSpec | undefined => kind.filter?.spec(qi);
    const recall = (run: TimedQueries) =>
      mean(run.keys.map((keys, qi) => recallAt(ds, norms, kind.truth, qi, keys, recallK, spec(qi))).filter((r) => Number.isFinite(r)));
    const apiSummary = summarize(api.latenciesMs);
    const rawSummary = summarize(rawRun.latenciesMs);
    const result: KindResult = {
      kind: kind.kind,
      topK: kind.topK,
      ...(kind.filter ? { filter: JSON.stringify(kind.filter.filter(0)), selectivity: kind.filter.selectivity } : {}),
      api: apiSummary,
      raw: rawSummary,
      addedP50: apiSummary.p50 - rawSummary.p50,
      recallK,
      recallApi: recall(api),
      recallRaw: recall(rawRun),
    };
    out.push(result);
    log(
      `${label} ${kind.kind}: API p50 ${fmtMs(apiSummary.p50)} p99 ${fmtMs(apiSummary.p99)} ms, raw p50 ${fmtMs(rawSummary.p50)} ms, ` +
        `recall@${recallK} API ${fmtRecall(result.recallApi)} raw ${fmtRecall(result.recallRaw)}`,
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// One dataset, end to end

interface DatasetResult {
  id: string;
  name: string;
  description: string;
  metric: string;
  dimension: number;
  rows: number;
  groundTruthSeconds: number;
  ingest: {
    vectorsPerSecond: number;
    seconds: number;
    concurrency: number;
    batch: number;
    putP50: number;
    putP99: number;
    maintenanceRunning: boolean;
    peakRssMiB: number;
  };
  before: { queries: number; kinds: KindResult[]; indices: unknown };
  ingestWithMaintenance?: { vectors: number; vectorsPerSecond: number; putP50: number; putP99: number; maintenanceActionsDuring: string[] };
  maintenance?: Omit<MaintenanceOutcome, 'server'>;
  after?: { queries: number; kinds: KindResult[]; indices: unknown };
  memory: {
    afterIngestRssMiB: number;
    finalRssMiB: number;
    peakRssMiB: number;
    tableDiskMiB: number;
    vectorsDirMiB: number;
    rssOverDisk: number;
    peakOverDisk: number;
  };
}

async function benchDataset(ds: Dataset): Promise<DatasetResult> {
  log(`== ${ds.name}: ${ds.description}`);
  const norms = rowNorms(ds);
  const recallQueries = QUERIES;
  let gtSeconds = 0;
  const truths = new Map<string, GroundTruth>();
  for (const variant of [undefined, ...ds.filters]) {
    const name = variant ? `filter ${variant.name}` : 'unfiltered';
    const b = bar(`exact ground truth, ${name}`, recallQueries);
    try {
      const { truth, cached, seconds } = await groundTruth(ds, norms, variant?.name ?? 'all', variant?.spec, {
        k: variant ? 10 : 100,
        queryCount: recallQueries,
        cacheDir: CACHE_DIR,
        onProgress: (done) => b.update(done),
      });
      truths.set(variant?.name ?? 'all', truth);
      gtSeconds += seconds;
      b.stop();
      log(`ground truth ${name}: ${cached ? 'cached' : `${seconds.toFixed(1)} s`}`);
    } finally {
      b.stop();
    }
  }
  const kinds: Kind[] = [
    { kind: 'topK 10', topK: 10, truth: truths.get('all')! },
    { kind: 'topK 100', topK: 100, truth: truths.get('all')! },
    ...ds.filters.map((f) => ({ kind: `topK 10, filter ${f.name}`, topK: 10, filter: f, truth: truths.get(f.name)! })),
  ];

  const dataDir = join(RUN_DIR, ds.id);
  // Phase A with the server's maintenance off, so "before" is plain exact search undisturbed;
  // the server is then restarted with maintenance on (its timer every 2 s) to catch up.
  let server = await ServerProcess.start({ name: ds.id, dataDir, auth: true, logDir: RUN_DIR, env: { S3V_MAINT: 'off' } });
  log(`server pid ${server.pid} at ${server.url} (data ${dataDir}, log ${server.logFile})`);
  const bucket = 'bench';
  const index = ds.id;
  try {
    let client = sdkClient(server.url);
    await createIndex(client, bucket, index, ds.dimension, ds.metric);

    const memory = sampleMemory(server.pid);
    const b = bar(`ingest ${fmtInt(ds.count)} × ${ds.dimension}-d`, ds.count);
    let ing;
    try {
      ing = await ingest(client, bucket, index, ds, { batch: BATCH, concurrency: CONCURRENCY, onBatch: (n) => b.increment(n) });
    } finally {
      b.stop();
    }
    const ingestPeak = memory.stop();
    const putSummary = summarize(ing.callLatenciesMs);
    log(`ingest: ${fmtInt(ing.vectorsPerSecond)} vectors/s (${ing.seconds.toFixed(1)} s, PutVectors p50 ${fmtMs(putSummary.p50)} ms, ${CONCURRENCY} callers), server peak RSS ${mib(ingestPeak)} MiB`);
    const afterIngestRss = server.memory().rss;

    const storageId = findStorageId(dataDir, bucket, index);
    let raw = await RawLance.open(dataDir, storageId, ds.metric);
    const beforeIndices = await raw.describe();
    log(`table ${storageId}: ${beforeIndices.rows} rows, version ${beforeIndices.version}, indices ${JSON.stringify(beforeIndices.indices)}`);
    const before = await queryPhase('before', ds, norms, client, raw, kinds, BEFORE_QUERIES, bucket, index);

    let maintenance: MaintenanceOutcome | undefined;
    let after: DatasetResult['after'];
    let peakBeforeRestart = server.memory().hwm;
    let ingestWithMaintenance: DatasetResult['ingestWithMaintenance'];
    let steady: { rss: number; tableBytes: number } | undefined;
    if (maintenanceDriver) {
      log(`maintenance (${maintenanceDriver.name} driver)...`);
      raw.close();
      if (maintenanceDriver.name === 'server') {
        client.destroy();
        await server.stop();
        server = await ServerProcess.start({ ...server.options, env: { S3V_MAINT_INTERVAL_SECONDS: '2' } });
        client = sdkClient(server.url);
        log(`server restarted with maintenance on: pid ${server.pid}`);
      }
      maintenance = await maintenanceDriver.catchUp({
        dataDir,
        storageId,
        bucket,
        index,
        metric: ds.metric,
        rows: ds.count,
        server,
        log: (line) => log(`  ${line}`),
        timeoutSeconds: quick ? 300 : 3600,
      });
      log(`maintenance caught up in ${maintenance.seconds.toFixed(1)} s (${maintenance.note})`);
      if (maintenance.server !== server) {
        client.destroy();
        server = maintenance.server;
        client = sdkClient(server.url);
        log(`server restarted: pid ${server.pid}`);
      }
      raw = await RawLance.open(dataDir, storageId, ds.metric);
      const afterIndices = await raw.describe();
      log(`table after maintenance: ${afterIndices.rows} rows, version ${afterIndices.version}, indices ${afterIndices.indices.map((i) => `${i.name}(${i.indexType})`).join(', ')}`);
      const kindsResult = await queryPhase('after', ds, norms, client, raw, kinds, QUERIES, bucket, index);
      after = { queries: QUERIES, kinds: kindsResult, indices: maintenance.indices };
      // Memory against disk here, before the upsert phase adds versions that wait to be pruned.
      steady = { rss: server.memory().rss, tableBytes: folderBytes(join(dataDir, 'vectors', `${storageId}.lance`)) };
      if (maintenanceDriver.name === 'server') {
        // Writes keep flowing: half the rows again as new vectors (new keys) while the server's
        // maintenance timer runs every 2 s, so maintenance has fresh rows to fold in meanwhile.
        const half = { ...ds, count: Math.ceil(ds.count / 2), key: (i: number) => `again-${ds.key(i)}` } as Dataset;
        const since = Date.now();
        const b2 = bar(`ingest ${fmtInt(half.count)} new vectors with maintenance on`, half.count);
        let again;
        try {
          again = await ingest(client, bucket, index, half, { batch: BATCH, concurrency: CONCURRENCY, onBatch: (n) => b2.increment(n) });
        } finally {
          b2.stop();
        }
        const until = Date.now();
        const actions = maintenanceLog(server.logFile, since).filter((l) => l.event === 'maintenance.action' && Number(l.time) <= until + 1000);
        ingestWithMaintenance = {
          vectors: half.count,
          vectorsPerSecond: round(again.vectorsPerSecond, 0),
          putP50: round(summarize(again.callLatenciesMs).p50),
          putP99: round(summarize(again.callLatenciesMs).p99),
          maintenanceActionsDuring: actions.map((a) => `${a.action} ${a.ms} ms`),
        };
        log(`ingest with maintenance on: ${fmtInt(again.vectorsPerSecond)} vectors/s; maintenance actions meanwhile: ${ingestWithMaintenance.maintenanceActionsDuring.join(', ') || 'none'}`);
      }
    }
    raw.close();
    const final = server.memory();
    const peak = Math.max(peakBeforeRestart, final.hwm, ingestPeak);
    steady ??= { rss: final.rss, tableBytes: folderBytes(join(dataDir, 'vectors', `${storageId}.lance`)) };
    const tableBytes = steady.tableBytes;
    const vectorsBytes = folderBytes(join(dataDir, 'vectors'));
    client.destroy();
    const { server: _omit, ...maintenanceJson } = maintenance ?? ({} as MaintenanceOutcome);
    void _omit;
    return {
      id: ds.id,
      name: ds.name,
      description: ds.description,
      metric: ds.metric,
      dimension: ds.dimension,
      rows: ds.count,
      groundTruthSeconds: round(gtSeconds, 1),
      ingest: {
        vectorsPerSecond: round(ing.vectorsPerSecond, 0),
        seconds: round(ing.seconds, 2),
        concurrency: CONCURRENCY,
        batch: BATCH,
        putP50: round(putSummary.p50),
        putP99: round(putSummary.p99),
        maintenanceRunning: false,
        peakRssMiB: mib(ingestPeak),
      },
      before: { queries: BEFORE_QUERIES, kinds: before, indices: beforeIndices.indices },
      ...(maintenance ? { maintenance: maintenanceJson as Omit<MaintenanceOutcome, 'server'> } : {}),
      ...(after ? { after } : {}),
      ...(ingestWithMaintenance ? { ingestWithMaintenance } : {}),
      memory: {
        afterIngestRssMiB: mib(afterIngestRss),
        finalRssMiB: mib(steady.rss),
        peakRssMiB: mib(peak),
        tableDiskMiB: mib(tableBytes),
        vectorsDirMiB: mib(vectorsBytes),
        rssOverDisk: round(steady.rss / tableBytes, 2),
        peakOverDisk: round(peak / tableBytes, 2),
      },
    };
  } finally {
    await server.stop();
    if (!args.keep) rmSync(dataDir, { recursive: true, force: true });
  }
}

async function benchUserFlow(ds: Dataset): Promise<UserFlowResult> {
  log(`== ${ds.name}: ${ds.description} (user flow)`);
  const norms = rowNorms(ds);
  const truths = new Map<string, GroundTruth>();
  for (const variant of [undefined, ...ds.filters]) {
    const { truth, cached, seconds } = await groundTruth(ds, norms, variant?.name ?? 'all', variant?.spec, {
      k: variant ? 10 : 100,
      queryCount: QUERIES,
      cacheDir: CACHE_DIR,
    });
    truths.set(variant?.name ?? 'all', truth);
    log(`ground truth ${variant ? `filter ${variant.name}` : 'unfiltered'}: ${cached ? 'cached' : `${seconds.toFixed(1)} s`}`);
  }
  const kinds = [
    { kind: 'topK 10', topK: 10, truth: truths.get('all')! },
    { kind: 'topK 100', topK: 100, truth: truths.get('all')! },
    ...ds.filters.map((f) => ({ kind: `topK 10, filter ${f.name}`, topK: 10, filter: f, truth: truths.get(f.name)! })),
  ];
  try {
    return await userFlow(ds, kinds, {
      runDir: RUN_DIR,
      queries: QUERIES,
      warmup: WARMUP,
      concurrency: CONCURRENCY,
      batch: BATCH,
      settleTimeoutSeconds: quick ? 300 : 1800,
      // Quick sets are below the default ANN threshold: lower it so the flow still builds and folds an index.
      env: quick ? { S3V_MAINT_ANN_MIN_FLOATS: '1000000' } : {},
      log,
      norms,
    });
  } finally {
    if (!args.keep) rmSync(join(RUN_DIR, `${ds.id}-user`), { recursive: true, force: true });
  }
}

function userTargets(r: UserFlowResult): TargetCheck[] {
  const k10 = r.kinds.find((k) => k.kind === 'topK 10')!;
  const checks: TargetCheck[] = [
    { dataset: r.dataset, target: 'topK 10 p50 ≤ 4 ms', value: `${fmtMs(k10.api.p50)} ms`, met: k10.api.p50 <= 4 },
    { dataset: r.dataset, target: 'topK 10 p99 ≤ 10 ms', value: `${fmtMs(k10.api.p99)} ms`, met: k10.api.p99 <= 10 },
    { dataset: r.dataset, target: 'topK 10 recall@10 ≥ 0.98', value: fmtRecall(k10.recallApi), met: k10.recallApi >= 0.98 },
    { dataset: r.dataset, target: 'API p50 ≤ 1.3× raw LanceDB one-shot HNSW_SQ p50', value: `${k10.apiOverOneShot}×`, met: k10.apiOverOneShot <= 1.3 },
  ];
  for (const k of r.kinds.filter((k) => k.kind.includes('filter'))) {
    checks.push({ dataset: r.dataset, target: `${k.kind}: p50 ≤ 8 ms`, value: `${fmtMs(k.api.p50)} ms`, met: k.api.p50 <= 8 });
    checks.push({ dataset: r.dataset, target: `${k.kind}: recall@10 ≥ 0.98`, value: fmtRecall(k.recallApi), met: k.recallApi >= 0.98 });
  }
  checks.push({ dataset: r.dataset, target: 'settle ≤ 60 s after the last write', value: `${r.settleSeconds} s`, met: r.settleSeconds <= 60 });
  checks.push({ dataset: r.dataset, target: 'ingest ≥ 12,000 vectors/s, maintenance on', value: `${fmtInt(r.ingest.vectorsPerSecond)}/s`, met: r.ingest.vectorsPerSecond >= 12_000 });
  checks.push({ dataset: r.dataset, target: 'server RSS ≤ 1.5× index on disk', value: `${r.memory.rssOverDisk}×`, met: r.memory.rssOverDisk <= 1.5 });
  return checks;
}

// ---------------------------------------------------------------------------------------------
// Issue 2 and 6 figures: PutVectors 500 × 1024-d, QueryVectors topK 10 over 10k, auth overhead

interface SmallResult {
  rows: number;
  dimension: number;
  putVectors500x1024: LatencySummary;
  query10k: LatencySummary;
  query10kRaw: LatencySummary;
  authOn: LatencySummary;
  authOff: LatencySummary;
  authAddedP50: number;
  nullServer: LatencySummary;
}

async function benchSmall(): Promise<SmallResult> {
  const rows = quick ? 2_000 : 10_000;
  const dimension = 1024;
  const queries = quick ? 100 : 1000;
  log(`== issue 2/6 figures: ${fmtInt(rows)} × ${dimension}-d cosine, ${queries} queries`);
  const vectors = uniformVectors(rows, dimension, 2);
  const qv = uniformVectors(queries, dimension, 3);
  const source = { count: rows, dimension, vectors, key: (i: number) => `v${i}` };
  const sdkVectors = Array.from({ length: queries }, (_, i) => Array.from(qv.subarray(i * dimension, (i + 1) * dimension)));
  const rawVectors = Array.from({ length: queries }, (_, i) => qv.slice(i * dimension, (i + 1) * dimension));
  const on = await ServerProcess.start({ name: 'small-auth-on', dataDir: join(RUN_DIR, 'small-on'), auth: true, logDir: RUN_DIR, env: { S3V_MAINT: 'off' } });
  const off = await ServerProcess.start({ name: 'small-auth-off', dataDir: join(RUN_DIR, 'small-off'), auth: false, logDir: RUN_DIR, env: { S3V_MAINT: 'off' } });
  const nul = await nullServer();
  const onClient = sdkClient(on.url);
  const offClient = sdkClient(off.url);
  const nullClient = sdkClient(nul.url);
  try {
    await createIndex(onClient, 'small', 'i1024', dimension, 'cosine');
    await createIndex(offClient, 'small', 'i1024', dimension, 'cosine');
    // One caller, so each PutVectors' time is its own (issue 2's figure).
    let b = bar(`PutVectors 500 × ${dimension}-d (1 caller)`, rows);
    let put;
    try {
      put = await ingest(onClient, 'small', 'i1024', source, { batch: BATCH, concurrency: 1, onBatch: (n) => b.increment(n) });
    } finally {
      b.stop();
    }
    await ingest(offClient, 'small', 'i1024', source, { batch: BATCH, concurrency: CONCURRENCY });
    const spec = { bucket: 'small', index: 'i1024', topK: 10 };
    b = bar(`QueryVectors topK 10 over ${fmtInt(rows)}`, queries);
    let q10k: TimedQueries;
    try {
      q10k = await timedQueries(onClient, spec, sdkVectors, { warmup: WARMUP, onQuery: () => b.increment() });
    } finally {
      b.stop();
    }
    const raw = await RawLance.open(join(RUN_DIR, 'small-on'), findStorageId(join(RUN_DIR, 'small-on'), 'small', 'i1024'), 'cosine');
    const rawRun = await raw.timed(rawVectors, 10, undefined, { warmup: WARMUP });
    raw.close();
    // Auth on vs off, interleaved in blocks so drift (CPU frequency, page cache) hits both alike.
    const onLat: number[] = [];
    const offLat: number[] = [];
    const block = 50;
    b = bar('QueryVectors auth on / off (interleaved)', queries * 2);
    try {
      await timedQueries(offClient, spec, sdkVectors.slice(0, WARMUP), { warmup: WARMUP });
      for (let first = 0; first < queries; first += block) {
        const slice = sdkVectors.slice(first, first + block);
        onLat.push(...(await timedQueries(onClient, spec, slice, { warmup: 0, onQuery: () => b.increment() })).latenciesMs);
        offLat.push(...(await timedQueries(offClient, spec, slice, { warmup: 0, onQuery: () => b.increment() })).latenciesMs);
      }
    } finally {
      b.stop();
    }
    const nullRun = await timedQueries(nullClient, spec, sdkVectors, { warmup: WARMUP });
    const result: SmallResult = {
      rows,
      dimension,
      putVectors500x1024: summarize(put.callLatenciesMs),
      query10k: summarize(q10k.latenciesMs),
      query10kRaw: summarize(rawRun.latenciesMs),
      authOn: summarize(onLat),
      authOff: summarize(offLat),
      authAddedP50: 0,
      nullServer: summarize(nullRun.latenciesMs),
    };
    result.authAddedP50 = result.authOn.p50 - result.authOff.p50;
    log(
      `PutVectors 500×1024 p50 ${fmtMs(result.putVectors500x1024.p50)} ms; QueryVectors topK 10 / ${fmtInt(rows)} p50 ${fmtMs(result.query10k.p50)} ms; ` +
        `auth adds ${fmtMs(result.authAddedP50)} ms at p50; SDK to a null server p50 ${fmtMs(result.nullServer.p50)} ms`,
    );
    return result;
  } finally {
    onClient.destroy();
    offClient.destroy();
    nullClient.destroy();
    await nul.close();
    await on.stop();
    await off.stop();
    if (!args.keep) {
      rmSync(join(RUN_DIR, 'small-on'), { recursive: true, force: true });
      rmSync(join(RUN_DIR, 'small-off'), { recursive: true, force: true });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Tables and targets

interface TargetCheck {
  dataset: string;
  target: string;
  value: string;
  met: boolean | undefined;
}

function kindRows(phase: string, kinds: KindResult[]): (string | number)[][] {
  return kinds.map((k) => [
    phase,
    k.kind,
    fmtMs(k.api.p50),
    fmtMs(k.api.p95),
    fmtMs(k.api.p99),
    fmtMs(k.raw.p50),
    fmtMs(k.raw.p99),
    fmtMs(k.addedP50),
    fmtRecall(k.recallApi),
    fmtRecall(k.recallRaw),
  ]);
}

function datasetTables(r: DatasetResult): string {
  const queries = table(
    ['phase', 'query', 'API p50', 'API p95', 'API p99', 'raw p50', 'raw p99', 'added p50', 'recall API', 'recall raw'],
    [...kindRows(`before (${r.before.queries} q)`, r.before.kinds), ...(r.after ? kindRows(`after (${r.after.queries} q)`, r.after.kinds) : [])],
  );
  const summary = table(
    ['measure', 'value'],
    [
      [`ingest (${r.ingest.concurrency} callers × ${r.ingest.batch}/PutVectors${r.ingest.maintenanceRunning ? ', maintenance on' : ''})`, `${fmtInt(r.ingest.vectorsPerSecond)} vectors/s`],
      ['PutVectors p50 / p99 during ingest', `${fmtMs(r.ingest.putP50)} / ${fmtMs(r.ingest.putP99)} ms`],
      ...(r.ingestWithMaintenance
        ? [
            [`ingest ${fmtInt(r.ingestWithMaintenance.vectors)} new vectors, maintenance on`, `${fmtInt(r.ingestWithMaintenance.vectorsPerSecond)} vectors/s (PutVectors p50 ${fmtMs(r.ingestWithMaintenance.putP50)} ms)`] as (string | number)[],
            ['  maintenance actions meanwhile', r.ingestWithMaintenance.maintenanceActionsDuring.join(', ') || 'none'],
          ]
        : []),
      ...(r.maintenance
        ? [
            [`maintenance (${r.maintenance.driver})`, `${r.maintenance.seconds.toFixed(1)} s`] as (string | number)[],
            ...r.maintenance.steps.map((s) => [`  ${s.name}`, `${s.seconds.toFixed(1)} s`]),
          ]
        : []),
      ['server RSS after ingest', `${r.memory.afterIngestRssMiB} MiB`],
      ['server RSS after the queries / peak', `${r.memory.finalRssMiB} / ${r.memory.peakRssMiB} MiB`],
      ['index table on disk after the queries (vectors folder at the end)', `${r.memory.tableDiskMiB} MiB (${r.memory.vectorsDirMiB} MiB)`],
      ['RSS / disk after the queries (peak)', `${r.memory.rssOverDisk}× (${r.memory.peakOverDisk}×)`],
    ],
  );
  return `\n${r.name} — ${r.description}\nlatencies in ms; recall@10 (recall@100 for topK 100) vs exact brute force\n${queries}\n\n${summary}\n`;
}

function smallTable(s: SmallResult): string {
  return (
    `\nIssue 2 / 6 figures — ${fmtInt(s.rows)} × ${s.dimension}-d cosine, sequential calls through the SDK\n` +
    table(
      ['measure', 'p50', 'p95', 'p99'],
      [
        ['PutVectors 500 × 1024-d (1 caller)', fmtMs(s.putVectors500x1024.p50), fmtMs(s.putVectors500x1024.p95), fmtMs(s.putVectors500x1024.p99)],
        [`QueryVectors topK 10 over ${fmtInt(s.rows)} (auth on)`, fmtMs(s.query10k.p50), fmtMs(s.query10k.p95), fmtMs(s.query10k.p99)],
        ['  same query, raw LanceDB in process', fmtMs(s.query10kRaw.p50), fmtMs(s.query10kRaw.p95), fmtMs(s.query10kRaw.p99)],
        ['QueryVectors, auth on (interleaved)', fmtMs(s.authOn.p50), fmtMs(s.authOn.p95), fmtMs(s.authOn.p99)],
        ['QueryVectors, S3V_AUTH=off (interleaved)', fmtMs(s.authOff.p50), fmtMs(s.authOff.p95), fmtMs(s.authOff.p99)],
        ['  added by authentication + authorization', fmtMs(s.authAddedP50), '', ''],
        ['SDK QueryVectors to a null server', fmtMs(s.nullServer.p50), fmtMs(s.nullServer.p95), fmtMs(s.nullServer.p99)],
      ],
    ) +
    '\n'
  );
}

function targets(r: DatasetResult): TargetCheck[] {
  const phase = r.after ?? r.before;
  const label = r.after ? 'after maintenance' : 'before maintenance';
  const k10 = phase.kinds.find((k) => k.kind === 'topK 10')!;
  const checks: TargetCheck[] = [
    { dataset: r.name, target: `topK 10 p50 ≤ 5 ms (${label})`, value: `${fmtMs(k10.api.p50)} ms`, met: k10.api.p50 <= 5 },
    { dataset: r.name, target: 'topK 10 p99 ≤ 15 ms', value: `${fmtMs(k10.api.p99)} ms`, met: k10.api.p99 <= 15 },
    { dataset: r.name, target: 'topK 10 recall@10 ≥ 0.98', value: fmtRecall(k10.recallApi), met: k10.recallApi >= 0.98 },
  ];
  for (const k of phase.kinds.filter((k) => k.filter)) {
    checks.push({ dataset: r.name, target: `${k.kind}: recall@10 ≥ 0.98`, value: fmtRecall(k.recallApi), met: k.recallApi >= 0.98 });
    checks.push({ dataset: r.name, target: `${k.kind}: p50 ≤ 10 ms`, value: `${fmtMs(k.api.p50)} ms`, met: k.api.p50 <= 10 });
  }
  checks.push({ dataset: r.name, target: 'API added p50 over raw LanceDB ≤ 1.5 ms (topK 10)', value: `${fmtMs(k10.addedP50)} ms`, met: k10.addedP50 <= 1.5 });
  checks.push({ dataset: r.name, target: 'ingest ≥ 10,000 vectors/s (fresh index, maintenance off)', value: `${fmtInt(r.ingest.vectorsPerSecond)}/s`, met: r.ingest.vectorsPerSecond >= 10_000 });
  if (r.ingestWithMaintenance) {
    const w = r.ingestWithMaintenance;
    checks.push({ dataset: r.name, target: `ingest ≥ 10,000 vectors/s with maintenance running (${w.maintenanceActionsDuring.length} actions overlapped)`, value: `${fmtInt(w.vectorsPerSecond)}/s`, met: w.vectorsPerSecond >= 10_000 });
  }
  checks.push({ dataset: r.name, target: 'server RSS ≤ 1.5× index on disk (after the queries)', value: `${r.memory.rssOverDisk}×`, met: r.memory.rssOverDisk <= 1.5 });
  return checks;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  log(`open-s3vectors bench${quick ? ' (quick)' : ''}: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${mib(totalmem())} MiB RAM, node ${process.version}; work dir ${RUN_DIR}`);
  const results: { small?: SmallResult; datasets: DatasetResult[]; userFlow: UserFlowResult[] } = { datasets: [], userFlow: [] };
  const printed: string[] = [];
  const checks: TargetCheck[] = [];
  const out = resolve(args.out ?? join(RESULTS_DIR, `${args.dataset}${quick ? '-quick' : ''}-${stamp}.json`));
  const save = () => {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(
      out,
      JSON.stringify(
        {
          startedAt: new Date(started).toISOString(),
          seconds: Math.round((Date.now() - started) / 1000),
          machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryMiB: mib(totalmem()), node: process.version },
          options: { ...args, queries: QUERIES, beforeQueries: BEFORE_QUERIES, concurrency: CONCURRENCY, maintenance: maintenanceDriver?.name ?? 'none' },
          ...results,
          targets: checks,
        },
        null,
        2,
      ) + '\n',
    );
  };
  try {
    if (!args['no-small'] && args.flow === 'classic') {
      results.small = await benchSmall();
      printed.push(smallTable(results.small));
      save();
    }
    const sets: (() => Dataset)[] = [];
    if (args.dataset === 'fashion-mnist' || args.dataset === 'all') {
      sets.push(() => fashionMnist(quick ? 5_000 : 60_000, QUERIES, log));
    }
    if (args.dataset === 'synthetic' || args.dataset === 'all') {
      const count = quick ? 5_000 : args.size === '1m' ? 1_000_000 : 100_000;
      sets.push(() => synthetic(count, 768, QUERIES, 'cosine'));
    }
    for (const make of sets) {
      const t0 = performance.now();
      const ds = make();
      log(`generated/loaded ${ds.name} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      if (args.flow === 'user') {
        const u = await benchUserFlow(ds);
        results.userFlow.push(u);
        checks.push(...userTargets(u));
        printed.push(userFlowTable(u));
      } else {
        const r = await benchDataset(ds);
        results.datasets.push(r);
        checks.push(...targets(r));
        printed.push(datasetTables(r));
      }
      save();
    }
  } finally {
    save();
    if (!args.keep) rmSync(RUN_DIR, { recursive: true, force: true });
  }
  console.log('\n' + printed.join('\n'));
  if (checks.length) {
    console.log(`\n${args.flow === 'user' ? 'Issue 16' : 'Issue 7'} targets (this machine)`);
    console.log(table(['dataset', 'target', 'measured', 'met'], checks.map((c) => [c.dataset, c.target, c.value, c.met === undefined ? '-' : c.met ? 'yes' : 'NO'])));
  }
  console.log(`\nJSON: ${out}\nTotal ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error instanceof Error ? error.stack : error);
    process.exit(1);
  },
);

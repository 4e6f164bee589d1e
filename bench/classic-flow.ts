// The classic flow (`--flow classic`, issue 7): per dataset, ingest with the server's maintenance off,
// query "before", let maintenance catch up (a driver from ./maintenance), query "after", then ingest
// again with maintenance running; API latencies against raw LanceDB on the same table, recall
// against exact brute force.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { createIndex, ingest, sdkClient, timedQueries, type TimedQueries } from './client';
import type { Dataset, PredicateSpec } from './datasets';
import { groundTruth, recallAt, rowNorms, type GroundTruth } from './groundtruth';
import { maintenanceLog, type MaintenanceOutcome } from './maintenance';
import { bar, log, type BenchContext } from './options';
import { RawLance } from './raw-lance';
import { fmtInt, fmtRecall } from './report';
import { findStorageId, folderBytes, sampleMemory, ServerProcess } from './server';
import { fmtMs, mean, mib, round, summarize, type LatencySummary } from './stats';

// ---------------------------------------------------------------------------------------------
// Query phases

export interface KindResult {
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
  ctx: BenchContext,
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
      api = await timedQueries(client, { bucket, index, topK: kind.topK, filter }, sdkVectors, { warmup: ctx.warmup, onQuery: () => b.increment() });
      rawRun = await raw.timed(rawVectors, kind.topK, filter, { warmup: ctx.warmup, onQuery: () => b.increment() });
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

export interface DatasetResult {
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

export async function benchDataset(ctx: BenchContext, ds: Dataset): Promise<DatasetResult> {
  log(`== ${ds.name}: ${ds.description}`);
  const norms = rowNorms(ds);
  const recallQueries = ctx.queries;
  let gtSeconds = 0;
  const truths = new Map<string, GroundTruth>();
  for (const variant of [undefined, ...ds.filters]) {
    const name = variant ? `filter ${variant.name}` : 'unfiltered';
    const b = bar(`exact ground truth, ${name}`, recallQueries);
    try {
      const { truth, cached, seconds } = await groundTruth(ds, norms, variant?.name ?? 'all', variant?.spec, {
        k: variant ? 10 : 100,
        queryCount: recallQueries,
        cacheDir: ctx.cacheDir,
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

  const dataDir = join(ctx.runDir, ds.id);
  // Phase A with the server's maintenance off, so "before" is plain exact search undisturbed;
  // the server is then restarted with maintenance on (its timer every 2 s) to catch up.
  let server = await ServerProcess.start({ name: ds.id, dataDir, auth: true, logDir: ctx.runDir, env: { S3V_MAINT: 'off' } });
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
      ing = await ingest(client, bucket, index, ds, { batch: ctx.batch, concurrency: ctx.concurrency, onBatch: (n) => b.increment(n) });
    } finally {
      b.stop();
    }
    const ingestPeak = memory.stop();
    const putSummary = summarize(ing.callLatenciesMs);
    log(`ingest: ${fmtInt(ing.vectorsPerSecond)} vectors/s (${ing.seconds.toFixed(1)} s, PutVectors p50 ${fmtMs(putSummary.p50)} ms, ${ctx.concurrency} callers), server peak RSS ${mib(ingestPeak)} MiB`);
    const afterIngestRss = server.memory().rss;

    const storageId = findStorageId(dataDir, bucket, index);
    let raw = await RawLance.open(dataDir, storageId, ds.metric);
    const beforeIndices = await raw.describe();
    log(`table ${storageId}: ${beforeIndices.rows} rows, version ${beforeIndices.version}, indices ${JSON.stringify(beforeIndices.indices)}`);
    const before = await queryPhase(ctx, 'before', ds, norms, client, raw, kinds, ctx.beforeQueries, bucket, index);

    let maintenance: MaintenanceOutcome | undefined;
    let after: DatasetResult['after'];
    let peakBeforeRestart = server.memory().hwm;
    let ingestWithMaintenance: DatasetResult['ingestWithMaintenance'];
    let steady: { rss: number; tableBytes: number } | undefined;
    if (ctx.maintenanceDriver) {
      log(`maintenance (${ctx.maintenanceDriver.name} driver)...`);
      raw.close();
      if (ctx.maintenanceDriver.name === 'server') {
        client.destroy();
        await server.stop();
        server = await ServerProcess.start({ ...server.options, env: { S3V_MAINT_INTERVAL_SECONDS: '2' } });
        client = sdkClient(server.url);
        log(`server restarted with maintenance on: pid ${server.pid}`);
      }
      maintenance = await ctx.maintenanceDriver.catchUp({
        dataDir,
        storageId,
        bucket,
        index,
        metric: ds.metric,
        rows: ds.count,
        server,
        log: (line) => log(`  ${line}`),
        timeoutSeconds: ctx.quick ? 300 : 3600,
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
      const kindsResult = await queryPhase(ctx, 'after', ds, norms, client, raw, kinds, ctx.queries, bucket, index);
      after = { queries: ctx.queries, kinds: kindsResult, indices: maintenance.indices };
      // Memory against disk here, before the upsert phase adds versions that wait to be pruned.
      steady = { rss: server.memory().rss, tableBytes: folderBytes(join(dataDir, 'vectors', `${storageId}.lance`)) };
      if (ctx.maintenanceDriver.name === 'server') {
        // Writes keep flowing: half the rows again as new vectors (new keys) while the server's
        // maintenance timer runs every 2 s, so maintenance has fresh rows to fold in meanwhile.
        const half = { ...ds, count: Math.ceil(ds.count / 2), key: (i: number) => `again-${ds.key(i)}` } as Dataset;
        const since = Date.now();
        const b2 = bar(`ingest ${fmtInt(half.count)} new vectors with maintenance on`, half.count);
        let again;
        try {
          again = await ingest(client, bucket, index, half, { batch: ctx.batch, concurrency: ctx.concurrency, onBatch: (n) => b2.increment(n) });
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
        concurrency: ctx.concurrency,
        batch: ctx.batch,
        putP50: round(putSummary.p50),
        putP99: round(putSummary.p99),
        maintenanceRunning: false,
        peakRssMiB: mib(ingestPeak),
      },
      before: { queries: ctx.beforeQueries, kinds: before, indices: beforeIndices.indices },
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
    if (!ctx.args.keep) rmSync(dataDir, { recursive: true, force: true });
  }
}

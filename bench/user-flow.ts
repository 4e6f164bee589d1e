// The user flow (issue 16), the default of `npm run bench`: one server started once with default
// settings (maintenance on), PutVectors from 4 callers, wait until `npm run status` says the index
// is settled (every row ANN-indexed, nothing pending), then query. Reports the ingest rate with
// maintenance on, the time from the last write to settled, and per query kind the API against raw
// LanceDB in this process on the same table and on a one-shot HNSW_SQ index (LanceDB's defaults,
// built once over a copy of the same rows), as ratios measured in the same run, interleaved.
import { readFileSync } from 'node:fs';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { createIndex, ingest, sdkClient, timedQueries } from './client';
import type { Dataset, FilterCase } from './datasets';
import { recallAt, type GroundTruth } from './groundtruth';
import { status } from './maintenance';
import { RawLance } from './raw-lance';
import { fmtInt, fmtRecall, table } from './report';
import { findStorageId, folderBytes, sampleMemory, ServerProcess } from './server';
import { fmtMs, mean, mib, round, summarize, type LatencySummary } from './stats';
import { userPaging, type UserPagingResult } from './user-paging';

export interface UserKind {
  kind: string;
  topK: number;
  filter?: FilterCase;
  truth: GroundTruth;
}

export interface UserKindResult {
  kind: string;
  api: LatencySummary;
  raw: LatencySummary;
  oneShot: LatencySummary;
  apiOverRaw: number;
  apiOverOneShot: number;
  recallApi: number;
  recallOneShot: number;
}

export interface UserFlowResult {
  dataset: string;
  rows: number;
  dimension: number;
  ingest: { vectorsPerSecond: number; seconds: number; putP50: number; putP99: number };
  settleSeconds: number;
  /** Seconds from settled until the server's hot index served this table (its `hot.ready` log line); null when off or over budget. */
  hotReadySeconds: number | null;
  settledStatus: unknown;
  oneShotBuildSeconds: number;
  kinds: UserKindResult[];
  memory: { rssMiB: number; peakMiB: number; tableMiB: number; rssOverDisk: number };
  /** Full ListVectors and topK 10,000 in pages (./user-paging), after the query kinds. */
  paging?: UserPagingResult;
}

export interface UserFlowOptions {
  runDir: string;
  queries: number;
  warmup: number;
  concurrency: number;
  batch: number;
  settleTimeoutSeconds: number;
  env?: Record<string, string>;
  log(line: string): void;
  norms: Float64Array;
  /** Build and query the one-shot reference (default true; `--no-one-shot` skips it, ratios then NaN). */
  oneShot?: boolean;
}

export async function userFlow(ds: Dataset, kinds: UserKind[], o: UserFlowOptions): Promise<UserFlowResult> {
  const dataDir = join(o.runDir, `${ds.id}-user`);
  const server = await ServerProcess.start({ name: `${ds.id}-user`, dataDir, auth: true, logDir: o.runDir, env: o.env });
  o.log(`user flow: server pid ${server.pid} at ${server.url}, default settings${o.env && Object.keys(o.env).length ? ` + ${JSON.stringify(o.env)}` : ''}`);
  const client = sdkClient(server.url);
  const bucket = 'bench';
  const index = ds.id;
  let oneShotDir: string | undefined;
  try {
    await createIndex(client, bucket, index, ds.dimension, ds.metric);
    const memory = sampleMemory(server.pid);
    const ing = await ingest(client, bucket, index, ds, { batch: o.batch, concurrency: o.concurrency });
    const lastWrite = performance.now();
    const put = summarize(ing.callLatenciesMs);
    o.log(`ingest, maintenance on: ${fmtInt(ing.vectorsPerSecond)} vectors/s (${ing.seconds.toFixed(1)} s, PutVectors p50 ${fmtMs(put.p50)} ms, p99 ${fmtMs(put.p99)} ms)`);

    // Settled: what `npm run status` shows a user.
    let settled: ReturnType<typeof status>;
    for (let last = '';;) {
      settled = status({ dataDir, bucket, index, log: o.log });
      const waited = (performance.now() - lastWrite) / 1000;
      if (settled) {
        const line = `rows ${settled.rows}, ANN-indexed ${settled.indexedRows ?? 'exact'}${settled.unindexedRows ? ` (+${settled.unindexedRows})` : ''}, fragments ${settled.fragments}, pending ${settled.pending.join(',') || '-'}`;
        if (line !== last) o.log(`  status ${waited.toFixed(0)} s after the last write: ${line}`);
        last = line;
        const annDone = settled.indexedRows === null ? settled.rows < settled.annThresholdRows : settled.unindexedRows === 0;
        if (settled.rows >= ds.count && annDone && settled.pending.length === 0) break;
      }
      if (waited > o.settleTimeoutSeconds) throw new Error(`not settled ${o.settleTimeoutSeconds} s after the last write`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const settleSeconds = (performance.now() - lastWrite) / 1000;
    o.log(`settled ${settleSeconds.toFixed(1)} s after the last write`);

    const storageId = findStorageId(dataDir, bucket, index);
    // The local server's hot index (lambdas/adapters/hot) is built once the table is quiet: a user
    // querying after settle meets LanceDB until then, the hot index afterwards. Measure the latter.
    const hotReadySeconds = await waitForHotIndex(server.logFile, storageId, o);
    // The one-shot reference: the same rows, copied, with HNSW_SQ built once by LanceDB's defaults.
    oneShotDir = join(o.runDir, `${ds.id}-oneshot`);
    mkdirSync(join(oneShotDir, 'vectors'), { recursive: true });
    if (o.oneShot !== false) cpSync(join(dataDir, 'vectors', `${storageId}.lance`), join(oneShotDir, 'vectors', `${storageId}.lance`), { recursive: true });
    const t0 = performance.now();
    if (o.oneShot !== false) {
      const db = await lancedb.connect(join(oneShotDir, 'vectors'));
      const t = await db.openTable(storageId);
      await t.optimize();
      await t.createIndex('vector', { config: lancedb.Index.hnswSq({ distanceType: ds.metric === 'euclidean' ? 'l2' : 'cosine' }), replace: true });
      t.close();
      db.close();
    }
    const oneShotBuildSeconds = o.oneShot === false ? NaN : (performance.now() - t0) / 1000;
    if (o.oneShot !== false) o.log(`one-shot HNSW_SQ (LanceDB defaults) over a copy: built in ${oneShotBuildSeconds.toFixed(1)} s`);

    const raw = await RawLance.open(dataDir, storageId, ds.metric);
    // Without the one-shot reference, the same table stands in (its ratios are then not reported).
    const oneShot = o.oneShot === false ? raw : await RawLance.open(oneShotDir, storageId, ds.metric);
    const sdkVectors = Array.from({ length: o.queries }, (_, qi) => Array.from(ds.queries.subarray(qi * ds.dimension, (qi + 1) * ds.dimension)));
    const rawVectors = sdkVectors.map((v) => Float32Array.from(v));
    const results: UserKindResult[] = [];
    for (const kind of kinds) {
      const filter = kind.filter?.filter;
      const spec = { bucket, index, topK: kind.topK, filter };
      await timedQueries(client, spec, sdkVectors.slice(0, o.warmup), { warmup: o.warmup });
      await raw.timed(rawVectors.slice(0, o.warmup), kind.topK, filter, { warmup: o.warmup });
      if (oneShot !== raw) await oneShot.timed(rawVectors.slice(0, o.warmup), kind.topK, filter, { warmup: o.warmup });
      const api = { latenciesMs: [] as number[], keys: [] as string[][] };
      const rawRun = { latenciesMs: [] as number[], keys: [] as string[][] };
      const shot = { latenciesMs: [] as number[], keys: [] as string[][] };
      // Interleaved blocks: a loaded machine slows all three alike.
      for (let first = 0; first < o.queries; first += 50) {
        const end = Math.min(o.queries, first + 50);
        const block = (f?: (qi: number) => Record<string, unknown>) => (f ? (qi: number) => f(qi + first) : undefined);
        const a = await timedQueries(client, { ...spec, filter: block(filter) }, sdkVectors.slice(first, end), { warmup: 0 });
        const r = await raw.timed(rawVectors.slice(first, end), kind.topK, block(filter), { warmup: 0 });
        const s = oneShot === raw ? { latenciesMs: [NaN], keys: [] as string[][] } : await oneShot.timed(rawVectors.slice(first, end), kind.topK, block(filter), { warmup: 0 });
        for (const [into, from] of [[api, a], [rawRun, r], [shot, s]] as const) {
          into.latenciesMs.push(...from.latenciesMs);
          into.keys.push(...from.keys);
        }
      }
      const k = Math.min(kind.topK, kind.truth.k);
      const recall = (keys: string[][]) => mean(keys.map((ks, qi) => recallAt(ds, o.norms, kind.truth, qi, ks, k, kind.filter?.spec(qi))).filter(Number.isFinite));
      const result: UserKindResult = {
        kind: kind.kind,
        api: summarize(api.latenciesMs),
        raw: summarize(rawRun.latenciesMs),
        oneShot: summarize(shot.latenciesMs),
        apiOverRaw: 0,
        apiOverOneShot: 0,
        recallApi: recall(api.keys),
        recallOneShot: recall(shot.keys),
      };
      result.apiOverRaw = round(result.api.p50 / result.raw.p50, 2);
      result.apiOverOneShot = round(result.api.p50 / result.oneShot.p50, 2);
      o.log(
        `${kind.kind}: API p50 ${fmtMs(result.api.p50)} p99 ${fmtMs(result.api.p99)} ms, raw same table ${fmtMs(result.raw.p50)} ms (×${result.apiOverRaw}), ` +
          `raw one-shot ${fmtMs(result.oneShot.p50)} ms (×${result.apiOverOneShot}); recall@${k} API ${fmtRecall(result.recallApi)} one-shot ${fmtRecall(result.recallOneShot)}`,
      );
      results.push(result);
    }
    raw.close();
    if (oneShot !== raw) oneShot.close();
    const paging = await userPaging(client, bucket, index, ds.count, sdkVectors[0], o.log);
    const peak = memory.stop();
    const rss = server.memory().rss;
    const tableBytes = folderBytes(join(dataDir, 'vectors', `${storageId}.lance`));
    return {
      dataset: ds.name,
      rows: ds.count,
      dimension: ds.dimension,
      ingest: { vectorsPerSecond: round(ing.vectorsPerSecond, 0), seconds: round(ing.seconds, 1), putP50: round(put.p50), putP99: round(put.p99) },
      settleSeconds: round(settleSeconds, 1),
      hotReadySeconds: hotReadySeconds === null ? null : round(hotReadySeconds, 1),
      settledStatus: settled,
      oneShotBuildSeconds: round(oneShotBuildSeconds, 1),
      kinds: results,
      memory: { rssMiB: mib(rss), peakMiB: mib(peak), tableMiB: mib(tableBytes), rssOverDisk: round(rss / tableBytes, 2) },
      paging,
    };
  } finally {
    client.destroy();
    await server.stop();
    if (oneShotDir) rmSync(oneShotDir, { recursive: true, force: true });
  }
}

/** Waits for the server's `hot.ready` line for this table; null when the hot index is off, over budget or not built in time. */
async function waitForHotIndex(logFile: string, storageId: string, o: UserFlowOptions): Promise<number | null> {
  if (o.env?.S3V_HOT_INDEX_MB === '0' || process.env.S3V_HOT_INDEX_MB === '0') return null;
  const started = performance.now();
  const seen = (event: string) => readFileSync(logFile, 'utf8').split('\n').some((l) => l.includes(`"event":"${event}"`) && l.includes(storageId));
  while ((performance.now() - started) / 1000 < o.settleTimeoutSeconds) {
    if (seen('hot.ready')) {
      const seconds = (performance.now() - started) / 1000;
      o.log(`hot index serving ${seconds.toFixed(1)} s after settled`);
      return seconds;
    }
    if (seen('hot.over-budget') || seen('hot.build-failed')) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  o.log('hot index not serving: the queries below measure LanceDB');
  return null;
}

export function userFlowTable(r: UserFlowResult): string {
  const kinds = table(
    ['query', 'API p50', 'API p99', 'raw same table p50', 'API / raw', 'raw one-shot p50', 'API / one-shot', 'recall API', 'recall one-shot'],
    r.kinds.map((k) => [k.kind, fmtMs(k.api.p50), fmtMs(k.api.p99), fmtMs(k.raw.p50), `${k.apiOverRaw}×`, fmtMs(k.oneShot.p50), `${k.apiOverOneShot}×`, fmtRecall(k.recallApi), fmtRecall(k.recallOneShot)]),
  );
  const summary = table(
    ['measure', 'value'],
    [
      ['ingest, maintenance on (default server)', `${fmtInt(r.ingest.vectorsPerSecond)} vectors/s (PutVectors p50 ${fmtMs(r.ingest.putP50)} ms, p99 ${fmtMs(r.ingest.putP99)} ms)`],
      ['last write → settled (npm run status)', `${r.settleSeconds} s`],
      ['settled → hot index serving (server log hot.ready)', r.hotReadySeconds === null ? 'off / not built' : `${r.hotReadySeconds} s`],
      ['one-shot HNSW_SQ build (reference, not the server)', `${r.oneShotBuildSeconds} s`],
      ['server RSS / index table on disk', `${r.memory.rssMiB} / ${r.memory.tableMiB} MiB (${r.memory.rssOverDisk}×), peak ${r.memory.peakMiB} MiB`],
      ...(r.paging
        ? [
            [`full ListVectors (SDK paginator, ${r.paging.list.segments} segments)`, `${r.paging.list.seconds.toFixed(1)} s for ${fmtInt(r.paging.list.keys)} keys`],
            [`topK ${fmtInt(r.paging.query.topK)} in ${r.paging.query.pages} pages / one search`, `${fmtMs(r.paging.query.allPagesMs)} / ${fmtMs(r.paging.query.oneSearchMs)} ms (${r.paging.query.ratio.toFixed(2)}×)`],
          ]
        : []),
    ],
  );
  return `\n${r.dataset} — user flow (${fmtInt(r.rows)} × ${r.dimension}-d), latencies in ms through the SDK, ratios measured in the same run\n${kinds}\n\n${summary}\n`;
}

// `--storage s3` (issue 14's figures): the user flow on a shared S3-compatible store and DynamoDB
// catalog through N server processes. Per run: s3rver + dynalite (./s3-backend), `setup-storage`,
// N servers with the S3V_* variables and maintenance on (their shared lease), PutVectors round-robin
// from --concurrency callers, wait until `npm run status` says settled, then QueryVectors round-robin.
// The same code on local disk with one process gives the baseline row, so the figures compare.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { createIndex, ingest, sdkClient, timedQueries } from './client';
import type { Dataset } from './datasets';
import { recallAt } from './groundtruth';
import { statusAsync } from './maintenance';
import { log, type BenchContext } from './options';
import { fmtInt, fmtRecall, table } from './report';
import { dynamoKinds, s3Kinds, startS3Backend, type S3Backend } from './s3-backend';
import { ServerProcess } from './server';
import { fmtMs, mean, mib, round, summarize, type LatencySummary } from './stats';
import type { UserKind } from './user-flow';

export interface StorageKindResult {
  kind: string;
  api: LatencySummary;
  recall: number;
  /** Object-store requests per query by kind (GET, HEAD, LIST…); s3 only. */
  s3PerQuery?: Record<string, number>;
  dynamoPerQuery?: Record<string, number>;
}

export interface StorageRunResult {
  dataset: string;
  storage: 'local' | 's3';
  processes: number;
  rows: number;
  dimension: number;
  ingest: { vectorsPerSecond: number; seconds: number; putP50: number; putP99: number; concurrency: number };
  /** Per PutVectors call during ingest (maintenance running meanwhile); s3 only. */
  s3PerPut?: Record<string, number>;
  dynamoPerPut?: Record<string, number>;
  settleSeconds: number;
  settledStatus: unknown;
  kinds: StorageKindResult[];
  rssMiB: number[];
}

/** A client that sends each call to the next process in turn. */
function roundRobin(clients: S3VectorsClient[]): S3VectorsClient {
  let next = 0;
  return { send: (command: never) => clients[next++ % clients.length].send(command) } as unknown as S3VectorsClient;
}

const perCall = (counts: Record<string, number>, calls: number): Record<string, number> =>
  Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, round(v / calls, 2)]));

export async function storageRun(ctx: BenchContext, ds: Dataset, kinds: UserKind[], norms: Float64Array, storage: 'local' | 's3', processes: number): Promise<StorageRunResult> {
  const label = `${storage}-${processes}p`;
  const runDir = join(ctx.runDir, `${ds.id}-${label}`);
  let backend: S3Backend | undefined;
  const servers: ServerProcess[] = [];
  const clients: S3VectorsClient[] = [];
  try {
    if (storage === 's3') backend = await startS3Backend(runDir);
    // Quick sets are below the default ANN threshold: lower it so the flow still builds an index.
    const env: Record<string, string> = { ...(backend?.env ?? {}), ...(ctx.quick || ds.count < 20_000 ? { S3V_MAINT_ANN_MIN_FLOATS: '1000000' } : {}) };
    for (let p = 0; p < processes; p++) {
      servers.push(await ServerProcess.start({ name: `${ds.id}-${label}-${p}`, dataDir: join(runDir, `p${p}`), auth: true, logDir: ctx.runDir, env }));
    }
    log(`${label}: ${processes} server${processes > 1 ? 's' : ''} (pids ${servers.map((s) => s.pid).join(', ')}) on ${storage === 's3' ? 's3rver + dynalite' : 'local disk'}`);
    clients.push(...servers.map((s) => sdkClient(s.url)));
    const client = roundRobin(clients);
    const bucket = 'bench';
    const index = ds.id;
    await createIndex(clients[0], bucket, index, ds.dimension, ds.metric);

    const s3Mark = backend?.s3Requests.length ?? 0;
    const ddbMark = backend?.dynamoCalls.length ?? 0;
    const ing = await ingest(client, bucket, index, ds, { batch: ctx.batch, concurrency: ctx.concurrency });
    const puts = Math.ceil(ds.count / ctx.batch);
    const lastWrite = performance.now();
    const put = summarize(ing.callLatenciesMs);
    const s3PerPut = backend && perCall(s3Kinds(backend.s3Requests.slice(s3Mark)), puts);
    const dynamoPerPut = backend && perCall(dynamoKinds(backend.dynamoCalls.slice(ddbMark)), puts);
    log(`${label} ingest: ${fmtInt(ing.vectorsPerSecond)} vectors/s (${ing.seconds.toFixed(1)} s, PutVectors p50 ${fmtMs(put.p50)} ms, p99 ${fmtMs(put.p99)} ms)`);
    if (s3PerPut) log(`  per PutVectors: S3 ${JSON.stringify(s3PerPut)}; DynamoDB ${JSON.stringify(dynamoPerPut)}`);

    let settled: Awaited<ReturnType<typeof statusAsync>>;
    for (let last = '';;) {
      settled = await statusAsync({ dataDir: servers[0].options.dataDir, bucket, index, log, env: backend?.env });
      const waited = (performance.now() - lastWrite) / 1000;
      if (settled) {
        const line = `rows ${settled.rows}, ANN-indexed ${settled.indexedRows ?? 'exact'}${settled.unindexedRows ? ` (+${settled.unindexedRows})` : ''}, fragments ${settled.fragments}, pending ${settled.pending.join(',') || '-'}`;
        if (line !== last) log(`  status ${waited.toFixed(0)} s after the last write: ${line}`);
        last = line;
        const annDone = settled.indexedRows === null ? settled.rows < settled.annThresholdRows : settled.unindexedRows === 0;
        if (settled.rows >= ds.count && annDone && settled.pending.length === 0) break;
      }
      if (waited > (ctx.quick ? 300 : 1800)) throw new Error(`not settled ${waited.toFixed(0)} s after the last write`);
      await new Promise((r) => setTimeout(r, 2000));
    }
    const settleSeconds = (performance.now() - lastWrite) / 1000;
    log(`${label} settled ${settleSeconds.toFixed(1)} s after the last write`);

    const sdkVectors = Array.from({ length: ctx.queries }, (_, qi) => Array.from(ds.queries.subarray(qi * ds.dimension, (qi + 1) * ds.dimension)));
    const results: StorageKindResult[] = [];
    for (const kind of kinds) {
      const spec = { bucket, index, topK: kind.topK, filter: kind.filter?.filter };
      // Warm every process alike (its first query opens the table).
      await timedQueries(client, spec, sdkVectors.slice(0, Math.max(ctx.warmup, processes * 3)), { warmup: 0 });
      const s3Before = backend?.s3Requests.length ?? 0;
      const ddbBefore = backend?.dynamoCalls.length ?? 0;
      const run = await timedQueries(client, spec, sdkVectors, { warmup: 0 });
      const k = Math.min(kind.topK, kind.truth.k);
      const result: StorageKindResult = {
        kind: kind.kind,
        api: summarize(run.latenciesMs),
        recall: mean(run.keys.map((ks, qi) => recallAt(ds, norms, kind.truth, qi, ks, k, kind.filter?.spec(qi))).filter(Number.isFinite)),
        ...(backend
          ? { s3PerQuery: perCall(s3Kinds(backend.s3Requests.slice(s3Before)), sdkVectors.length), dynamoPerQuery: perCall(dynamoKinds(backend.dynamoCalls.slice(ddbBefore)), sdkVectors.length) }
          : {}),
      };
      log(
        `${label} ${kind.kind}: p50 ${fmtMs(result.api.p50)} p99 ${fmtMs(result.api.p99)} ms, recall@${k} ${fmtRecall(result.recall)}` +
          (result.s3PerQuery ? `; per query S3 ${JSON.stringify(result.s3PerQuery)} DynamoDB ${JSON.stringify(result.dynamoPerQuery)}` : ''),
      );
      results.push(result);
    }
    return {
      dataset: ds.name,
      storage,
      processes,
      rows: ds.count,
      dimension: ds.dimension,
      ingest: { vectorsPerSecond: round(ing.vectorsPerSecond, 0), seconds: round(ing.seconds, 1), putP50: round(put.p50), putP99: round(put.p99), concurrency: ctx.concurrency },
      ...(s3PerPut ? { s3PerPut, dynamoPerPut } : {}),
      settleSeconds: round(settleSeconds, 1),
      settledStatus: settled,
      kinds: results,
      rssMiB: servers.map((s) => mib(s.memory().rss)),
    };
  } finally {
    clients.forEach((c) => c.destroy());
    await Promise.all(servers.map((s) => s.stop()));
    await backend?.close();
    if (!ctx.args.keep) rmSync(runDir, { recursive: true, force: true });
  }
}

/** "6.2 GET, 3.5 HEAD" or, for DynamoDB, "commits: 2 PutItem, 3 Query; catalog: 4 GetItem"; under 0.05 per call left out (the JSON has all). */
const brief = (counts: Record<string, number> | undefined): string => {
  if (!counts) return '-';
  const byTable = new Map<string, string[]>();
  for (const [key, v] of Object.entries(counts)) {
    if (v < 0.05) continue;
    const [op, table] = key.split(' ');
    const list = byTable.get(table ?? '') ?? [];
    list.push(`${v} ${op}`);
    byTable.set(table ?? '', list);
  }
  return [...byTable].map(([table, ops]) => (table ? `${table}: ${ops.join(', ')}` : ops.join(', '))).join('; ') || '0';
};

/** One table for every run of a dataset: local disk and S3 through 1 and N processes. */
export function storageTable(runs: StorageRunResult[]): string {
  if (runs.length === 0) return '';
  const r0 = runs[0];
  const kinds = r0.kinds.map((k) => k.kind);
  const rows: (string | number)[][] = [
    ['ingest vectors/s (maintenance on)', ...runs.map((r) => fmtInt(r.ingest.vectorsPerSecond))],
    ['PutVectors p50 / p99 ms', ...runs.map((r) => `${fmtMs(r.ingest.putP50)} / ${fmtMs(r.ingest.putP99)}`)],
    ['S3 requests per PutVectors', ...runs.map((r) => brief(r.s3PerPut))],
    ['DynamoDB calls per PutVectors', ...runs.map((r) => brief(r.dynamoPerPut))],
    ['last write → settled s', ...runs.map((r) => String(r.settleSeconds))],
    ...kinds.flatMap((kind) => [
      [`${kind}: p50 / p99 ms`, ...runs.map((r) => { const k = r.kinds.find((x) => x.kind === kind)!; return `${fmtMs(k.api.p50)} / ${fmtMs(k.api.p99)}`; })],
      [`  recall`, ...runs.map((r) => fmtRecall(r.kinds.find((x) => x.kind === kind)!.recall))],
      [`  S3 requests per query`, ...runs.map((r) => brief(r.kinds.find((x) => x.kind === kind)!.s3PerQuery))],
      [`  DynamoDB calls per query`, ...runs.map((r) => brief(r.kinds.find((x) => x.kind === kind)!.dynamoPerQuery))],
    ]),
    ['server RSS MiB', ...runs.map((r) => r.rssMiB.join(' + '))],
  ];
  return (
    `\n${r0.dataset} — ${fmtInt(r0.rows)} × ${r0.dimension}-d, PutVectors ${r0.ingest.concurrency} callers round-robin, queries sequential round-robin, after maintenance\n` +
    table(['measure', ...runs.map((r) => (r.storage === 'local' ? 'local disk, 1 process' : `s3rver + dynalite, ${r.processes} process${r.processes > 1 ? 'es' : ''}`))], rows) +
    '\n'
  );
}

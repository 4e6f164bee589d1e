// Issue 2 and 6 figures (`--flow classic` unless --no-small): PutVectors 500 × 1024-d, QueryVectors
// topK 10 over 10k, what authentication adds, and the SDK's own round trip to a null server.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createIndex, ingest, nullServer, sdkClient, timedQueries, type TimedQueries } from './client';
import { uniformVectors } from './datasets';
import { bar, log, type BenchContext } from './options';
import { RawLance } from './raw-lance';
import { fmtInt, table } from './report';
import { findStorageId, ServerProcess } from './server';
import { fmtMs, summarize, type LatencySummary } from './stats';

export interface SmallResult {
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

export async function benchSmall(ctx: BenchContext): Promise<SmallResult> {
  const rows = ctx.quick ? 2_000 : 10_000;
  const dimension = 1024;
  const queries = ctx.quick ? 100 : 1000;
  log(`== issue 2/6 figures: ${fmtInt(rows)} × ${dimension}-d cosine, ${queries} queries`);
  const vectors = uniformVectors(rows, dimension, 2);
  const qv = uniformVectors(queries, dimension, 3);
  const source = { count: rows, dimension, vectors, key: (i: number) => `v${i}` };
  const sdkVectors = Array.from({ length: queries }, (_, i) => Array.from(qv.subarray(i * dimension, (i + 1) * dimension)));
  const rawVectors = Array.from({ length: queries }, (_, i) => qv.slice(i * dimension, (i + 1) * dimension));
  const on = await ServerProcess.start({ name: 'small-auth-on', dataDir: join(ctx.runDir, 'small-on'), auth: true, logDir: ctx.runDir, env: { S3V_MAINT: 'off' } });
  const off = await ServerProcess.start({ name: 'small-auth-off', dataDir: join(ctx.runDir, 'small-off'), auth: false, logDir: ctx.runDir, env: { S3V_MAINT: 'off' } });
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
      put = await ingest(onClient, 'small', 'i1024', source, { batch: ctx.batch, concurrency: 1, onBatch: (n) => b.increment(n) });
    } finally {
      b.stop();
    }
    await ingest(offClient, 'small', 'i1024', source, { batch: ctx.batch, concurrency: ctx.concurrency });
    const spec = { bucket: 'small', index: 'i1024', topK: 10 };
    b = bar(`QueryVectors topK 10 over ${fmtInt(rows)}`, queries);
    let q10k: TimedQueries;
    try {
      q10k = await timedQueries(onClient, spec, sdkVectors, { warmup: ctx.warmup, onQuery: () => b.increment() });
    } finally {
      b.stop();
    }
    const raw = await RawLance.open(join(ctx.runDir, 'small-on'), findStorageId(join(ctx.runDir, 'small-on'), 'small', 'i1024'), 'cosine');
    const rawRun = await raw.timed(rawVectors, 10, undefined, { warmup: ctx.warmup });
    raw.close();
    // Auth on vs off, interleaved in blocks so drift (CPU frequency, page cache) hits both alike.
    const onLat: number[] = [];
    const offLat: number[] = [];
    const block = 50;
    b = bar('QueryVectors auth on / off (interleaved)', queries * 2);
    try {
      await timedQueries(offClient, spec, sdkVectors.slice(0, ctx.warmup), { warmup: ctx.warmup });
      for (let first = 0; first < queries; first += block) {
        const slice = sdkVectors.slice(first, first + block);
        onLat.push(...(await timedQueries(onClient, spec, slice, { warmup: 0, onQuery: () => b.increment() })).latenciesMs);
        offLat.push(...(await timedQueries(offClient, spec, slice, { warmup: 0, onQuery: () => b.increment() })).latenciesMs);
      }
    } finally {
      b.stop();
    }
    const nullRun = await timedQueries(nullClient, spec, sdkVectors, { warmup: ctx.warmup });
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
    if (!ctx.args.keep) {
      rmSync(join(ctx.runDir, 'small-on'), { recursive: true, force: true });
      rmSync(join(ctx.runDir, 'small-off'), { recursive: true, force: true });
    }
  }
}

export function smallTable(s: SmallResult): string {
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

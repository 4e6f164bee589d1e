// `npm run bench -- overhead` (or `tsx bench/overhead.ts`): the API's own per-request cost.
// One server (SigV4 on, maintenance off), one small table, QueryVectors through the SDK against
// the same search with raw LanceDB in this process on the same table, interleaved in blocks so a
// loaded machine slows both alike. Prints both p50s and their ratio. `--cpu-prof DIR` profiles the
// server process (node --cpu-prof) for a flame graph or a self-time summary (bench/profile-summary.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createIndex, ingest, nullServer, sdkClient, timedQueries } from './client';
import { RawLance } from './raw-lance';
import { findStorageId, ServerProcess } from './server';
import { summarize } from './stats';

export interface OverheadResult {
  rows: number;
  dimension: number;
  queries: number;
  apiP50: number;
  rawP50: number;
  apiP99: number;
  rawP99: number;
  /** The SDK client's own round trip to a server that answers at once. */
  clientP50: number;
  ratio: number;
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export async function measureOverhead(options: {
  rows: number;
  dimension: number;
  queries: number;
  block?: number;
  cpuProfDir?: string;
  log?: (line: string) => void;
}): Promise<OverheadResult> {
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 's3v-overhead-'));
  const server = await ServerProcess.start({
    name: 'overhead',
    dataDir: join(dir, 'data'),
    logDir: dir,
    auth: true,
    env: { S3V_MAINT: 'off', S3V_LOG_LEVEL: 'warn' },
    nodeArgs: options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [],
  });
  const client = sdkClient(server.url);
  try {
    const { rows, dimension } = options;
    const random = seeded(7);
    const vectors = new Float32Array(rows * dimension).map(() => random() * 2 - 1);
    await createIndex(client, 'overhead', 'small', dimension, 'euclidean');
    await ingest(client, 'overhead', 'small', { count: rows, dimension, vectors, key: (i) => `k${i}` }, { batch: 500, concurrency: 2 });
    const raw = await RawLance.open(join(dir, 'data'), findStorageId(join(dir, 'data'), 'overhead', 'small'), 'euclidean');
    const queryVectors = Array.from({ length: options.queries }, () => Array.from({ length: dimension }, () => random() * 2 - 1));
    const block = options.block ?? 50;
    const api: number[] = [];
    const rawMs: number[] = [];
    const nullMs: number[] = [];
    const floor = await nullServer();
    const nullClient = sdkClient(floor.url);
    const spec = { bucket: 'overhead', index: 'small', topK: 10 };
    await timedQueries(client, spec, queryVectors.slice(0, 20), { warmup: 20 });
    await raw.timed(queryVectors.slice(0, 20).map((v) => Float32Array.from(v)), 10, undefined, { warmup: 20 });
    log(`overhead: ${rows} × ${dimension}-d, ${options.queries} queries, interleaved blocks of ${block}`);
    for (let first = 0; first < queryVectors.length; first += block) {
      const slice = queryVectors.slice(first, first + block);
      api.push(...(await timedQueries(client, spec, slice, { warmup: 0 })).latenciesMs);
      rawMs.push(...(await raw.timed(slice.map((v) => Float32Array.from(v)), 10, undefined, { warmup: 0 })).latenciesMs);
      nullMs.push(...(await timedQueries(nullClient, spec, slice, { warmup: first === 0 ? 10 : 0 })).latenciesMs);
    }
    raw.close();
    nullClient.destroy();
    await floor.close();
    const a = summarize(api);
    const r = summarize(rawMs);
    return { rows, dimension, queries: options.queries, apiP50: a.p50, rawP50: r.p50, apiP99: a.p99, rawP99: r.p99, clientP50: summarize(nullMs).p50, ratio: a.p50 / r.p50 };
  } finally {
    client.destroy();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '5000' },
      dimension: { type: 'string', default: '128' },
      queries: { type: 'string', default: '1000' },
      'cpu-prof': { type: 'string' },
    },
  });
  measureOverhead({
    rows: Number(values.rows),
    dimension: Number(values.dimension),
    queries: Number(values.queries),
    cpuProfDir: values['cpu-prof'],
    log: console.log,
  }).then((r) => {
    const f = (x: number) => x.toFixed(2);
    console.log(`API p50 ${f(r.apiP50)} ms (p99 ${f(r.apiP99)}), raw LanceDB p50 ${f(r.rawP50)} ms (p99 ${f(r.rawP99)}), ratio ${r.ratio.toFixed(2)}×, added ${f(r.apiP50 - r.rawP50)} ms, of which the SDK client's round trip ${f(r.clientP50)} ms`);
  });
}

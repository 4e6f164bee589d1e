// Ingest in the user flow (issue 16): `npm start` defaults (maintenance on), PutVectors of 500 rows
// from 4 callers, metadata category + a number. Compares server builds A/B in one run, interleaved
// (the machine is shared, so only same-run figures compare):
//   tsx bench/ingest.ts --repos /path/to/other/checkout,. --rows 60000 --rounds 2 [--warm 20000]
//                       [--dataset synthetic] [--cpu-prof] [--keep] [--dir D] [--envs 'S3V_X=1|S3V_X=2']
// Each run: a fresh data folder and server, one index, ingest, then rows and distinct keys counted
// in the table (a duplicate key or a lost row shows up there), with the CPU seconds of the server,
// its maintenance worker and this client. `--warm N`: N rows first, then wait until maintenance
// built the key BTREE, then time the rest (an index past its first maintenance pass).
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { createIndex, ingest, sdkClient } from './client';
import { fashionMnist, synthetic, type Dataset } from './datasets';
import { BENCH_CREDENTIALS, REGION } from './server';
import { summarize } from './stats';

/** The rows of `ds` from `first` on. */
function offset(ds: Dataset, first: number): Dataset {
  return {
    ...ds,
    count: ds.count - first,
    vectors: ds.vectors.subarray(first * ds.dimension),
    key: (i) => ds.key(i + first),
    metadata: (i) => ds.metadata(i + first),
  };
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

async function startServer(repo: string, dataDir: string, logFile: string, cpuProfDir?: string, extraEnv: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...extraEnv,
    S3V_ROOT_ACCESS_KEY_ID: BENCH_CREDENTIALS.accessKeyId,
    S3V_ROOT_SECRET_ACCESS_KEY: BENCH_CREDENTIALS.secretAccessKey,
    S3V_REGION: REGION,
  };
  delete env.S3V_AUTH;
  const nodeArgs = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [];
  const child = spawn(process.execPath, [...nodeArgs, '--no-deprecation', '--import', 'tsx', 'bin/server.ts', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir], {
    cwd: repo,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile);
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const url = await new Promise<string>((ok, fail) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(seen);
      if (m) ok(m[1]);
    });
    child.once('exit', (code) => fail(new Error(`server exited with ${code}; see ${logFile}`)));
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  const stop = async () => {
    if (exited) return;
    const done = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await done;
    clearTimeout(t);
  };
  return { url, stop, pid: child.pid! };
}

/**
 * CPU seconds (user + system) of a process, split by thread (its main JS thread, LanceDB's tokio
 * threads, the other threads: body worker, GC helpers, libuv pool), and of its children (the
 * maintenance worker).
 */
function cpuSeconds(pid: number): { own: number; main: number; tokio: number; threads: number; workers: number } {
  const ticks = (stat: string) => {
    const f = stat.split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]);
  };
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined; // a thread or child that ended meanwhile
    }
  };
  let workers = 0;
  for (const c of (read(`/proc/${pid}/task/${pid}/children`) ?? '').trim().split(/\s+/).filter(Boolean)) workers += ticks(read(`/proc/${c}/stat`) ?? ') S 0 0 0 0 0 0 0 0 0 0 0 0');
  let main = 0;
  let tokio = 0;
  let threads = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = read(`/proc/${pid}/task/${tid}/stat`);
    if (!stat) continue;
    if (Number(tid) === pid) main += ticks(stat);
    else if (stat.includes('(tokio-rt')) tokio += ticks(stat);
    else threads += ticks(stat);
  }
  return { own: ticks(readFileSync(`/proc/${pid}/stat`, 'utf8')) / 100, main: main / 100, tokio: tokio / 100, threads: threads / 100, workers: workers / 100 };
}

/** Waits until maintenance has built the key BTREE (its first pass after 10,000 rows). */
async function waitForKeyIndex(dataDir: string, timeoutMs = 150_000): Promise<number> {
  const t0 = performance.now();
  const folder = join(dataDir, 'vectors');
  const name = readdirSync(folder).find((f) => f.endsWith('.lance') && !f.startsWith('_'))!.slice(0, -'.lance'.length);
  const db = await lancedb.connect(folder);
  try {
    for (;;) {
      const t = await db.openTable(name);
      const found = (await t.listIndices()).some((i) => i.columns[0] === 'key');
      t.close();
      if (found) return (performance.now() - t0) / 1000;
      if (performance.now() - t0 > timeoutMs) throw new Error('maintenance built no key index');
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    db.close();
  }
}

async function countRows(dataDir: string): Promise<{ rows: number; keys: number; fragments: number }> {
  const folder = join(dataDir, 'vectors');
  const name = readdirSync(folder).find((f) => f.endsWith('.lance') && !f.startsWith('_'))!.slice(0, -'.lance'.length);
  const db = await lancedb.connect(folder);
  const t = await db.openTable(name);
  const keys = new Set(((await t.query().select(['key']).toArray()) as { key: string }[]).map((r) => r.key));
  const stats = await t.stats();
  const out = { rows: await t.countRows(), keys: keys.size, fragments: stats.fragmentStats.numFragments };
  t.close();
  db.close();
  return out;
}

async function main() {
  const repos = arg('repos', '.').split(',').map((r) => resolve(r));
  // --envs 'S3V_BODY_WORKERS=0|': each repo once per '|'-separated set of server variables.
  const envs = arg('envs', '').split('|').map((set) => Object.fromEntries(set.split(/\s+/).filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])));
  const configs = repos.flatMap((repo) => envs.map((env) => ({ repo, env })));
  const rows = Number(arg('rows', '30000'));
  const rounds = Number(arg('rounds', '1'));
  const batch = Number(arg('batch', '500'));
  const concurrency = Number(arg('concurrency', '4'));
  const cpuProf = process.argv.includes('--cpu-prof');
  const runDir = resolve(arg('dir', join('.bench-runs', `ingest-${Date.now()}`)));
  mkdirSync(runDir, { recursive: true });
  const ds: Dataset = arg('dataset', 'fashion-mnist') === 'synthetic' ? synthetic(rows, 784, 1, 'euclidean') : fashionMnist(rows, 1, console.log);
  console.log(`${ds.description}; batch ${batch}, ${concurrency} callers, maintenance on (server defaults); run dir ${runDir}`);
  const results: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++) {
    for (const [r, { repo, env }] of configs.entries()) {
      const label = `${r}:${repo}${Object.keys(env).length ? ' ' + Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ') : ''}`;
      const dataDir = join(runDir, `r${round}-${r}`);
      const server = await startServer(repo, dataDir, `${dataDir}.log`, cpuProf ? `${dataDir}-prof` : undefined, env);
      const client = sdkClient(server.url);
      try {
        await createIndex(client, 'bench', 'ingest', ds.dimension, ds.metric);
        // --warm N: the first N rows, then wait until maintenance built the key index (the state of
        // any index past its first maintenance pass), then time the rest.
        const warm = Number(arg('warm', '0'));
        if (warm > 0) {
          const first = await ingest(client, 'bench', 'ingest', { ...ds, count: warm }, { batch, concurrency });
          const waited = await waitForKeyIndex(dataDir);
          console.log(`  warm-up ${warm} rows at ${Math.round(first.vectorsPerSecond)} vectors/s; key index built ${waited.toFixed(0)} s later`);
        }
        const cpu0 = cpuSeconds(server.pid);
        const client0 = process.cpuUsage();
        const res = await ingest(client, 'bench', 'ingest', warm > 0 ? offset(ds, warm) : ds, { batch, concurrency });
        const cpu1 = cpuSeconds(server.pid);
        const clientCpu = process.cpuUsage(client0);
        const put = summarize(res.callLatenciesMs);
        await server.stop();
        const count = await countRows(dataDir);
        (results[label] ??= []).push(res.vectorsPerSecond);
        console.log(
          `round ${round} ${label}: ${Math.round(res.vectorsPerSecond)} vectors/s (${res.seconds.toFixed(1)} s; PutVectors p50 ${put.p50.toFixed(0)} ms, p99 ${put.p99.toFixed(0)} ms); ` +
            `CPU s: server ${(cpu1.own - cpu0.own).toFixed(1)} (main ${(cpu1.main - cpu0.main).toFixed(1)}, lance ${(cpu1.tokio - cpu0.tokio).toFixed(1)}, other threads ${(cpu1.threads - cpu0.threads).toFixed(1)}), maintenance ${(cpu1.workers - cpu0.workers).toFixed(1)}, client ${((clientCpu.user + clientCpu.system) / 1e6).toFixed(1)}; ` +
            `table rows ${count.rows}, distinct keys ${count.keys}, fragments ${count.fragments}`,
        );
        if (count.rows !== ds.count || count.keys !== ds.count) console.log(`  !! expected ${ds.count} rows and keys`);
      } finally {
        client.destroy();
        await server.stop();
        if (!cpuProf && !process.argv.includes('--keep')) rmSync(dataDir, { recursive: true, force: true });
      }
    }
  }
  for (const [label, rates] of Object.entries(results)) console.log(`${label}: ${rates.map((v) => Math.round(v)).join(', ')} vectors/s`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

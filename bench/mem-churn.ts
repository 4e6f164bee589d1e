// Memory churn: the real `bin/server.ts` in a child process, driven through the SDK with
// bucket/index create → PutVectors → QueryVectors → ListVectors → delete index/bucket, repeated.
// Prints the server's RSS (and its maintenance worker's) against the number of requests.
//   npx tsx bench/mem-churn.ts [--cycles 1500] [--every 150] [--env K=V ...] [--maint on|off]
// Issue 10 item 9; the figures are in the README's "Memory" section.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CreateIndexCommand,
  CreateVectorBucketCommand,
  DeleteIndexCommand,
  DeleteVectorBucketCommand,
  ListVectorsCommand,
  PutVectorsCommand,
  QueryVectorsCommand,
  S3VectorsClient,
} from '@aws-sdk/client-s3vectors';

const ROOT = join(__dirname, '..');
export const CHURN_CREDS = { accessKeyId: 'AKIAMEMCHURN00000001', secretAccessKey: 'mem-churn-secret-key-000000000000000000' };
/** Requests one churn cycle sends. */
export const REQUESTS_PER_CYCLE = 7;

export interface ChurnServer {
  child: ChildProcess;
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `node --import tsx bin/server.ts` (so child.pid is the server itself) with `env` added. */
export function startChurnServer(dataDir: string, env: Record<string, string | undefined> = {}, nodeArgs: string[] = []): Promise<ChurnServer> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(ROOT, 'bin', 'server.ts'), '--port', '0', '--data-dir', dataDir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      S3V_LOG_LEVEL: 'warn',
      S3V_REGION: 'us-east-1',
      S3V_ACCOUNT_ID: '123456789012',
      S3V_ROOT_ACCESS_KEY_ID: CHURN_CREDS.accessKeyId,
      S3V_ROOT_SECRET_ACCESS_KEY: CHURN_CREDS.secretAccessKey,
      ...env,
    },
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-200_000)));
  child.stderr!.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-200_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (!m) return;
      clearInterval(timer);
      resolve({
        child,
        url: m[1],
        output: () => out,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    }, 50);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`server exited: ${out.slice(-3000)}`));
    });
  });
}

/** Resident set size of a process in MB (VmRSS), or 0 when it is gone. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/** RssAnon and RssFile of a process in MB. */
export function rssParts(pid: number): string {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Math.round(Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024);
    return `${kb('RssAnon')}/${kb('RssFile')}`;
  } catch {
    return '-';
  }
}

/** RssAnon minus V8's heapTotal from the last memory line: what native code (LanceDB, malloc) holds. */
function nativeMb(pid: number, output: string): string {
  const lines = output.split('\n').filter((l) => l.includes('"mem"'));
  const anon = Number(/^(\d+)/.exec(rssParts(pid))?.[1]);
  if (!lines.length || !Number.isFinite(anon)) return '-';
  return String(Math.round(anon - JSON.parse(lines[lines.length - 1]).mem.heapTotal));
}

/** Descendant processes of `pid` (the maintenance worker). */
export function descendants(pid: number): number[] {
  try {
    const kids = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)]).toString().trim().split(/\s+/).filter(Boolean).map(Number);
    return kids.flatMap((k) => [k, ...descendants(k)]);
  } catch {
    return [];
  }
}

export function churnClient(url: string): S3VectorsClient {
  return new S3VectorsClient({ endpoint: url, region: 'us-east-1', credentials: CHURN_CREDS, maxAttempts: 1 });
}

/** `cycles` churn cycles, each in a new bucket and index (REQUESTS_PER_CYCLE requests each). */
export async function churn(client: S3VectorsClient, cycles: number, options: { start?: number; vectors?: number; dimension?: number; steps?: string[] } = {}): Promise<void> {
  const vectors = options.vectors ?? 50;
  const dimension = options.dimension ?? 32;
  const start = options.start ?? 0;
  const steps = new Set(options.steps ?? ['put', 'query', 'list']);
  for (let c = start; c < start + cycles; c++) {
    const bucket = `mem-churn-${c}`;
    const indexName = 'idx';
    await client.send(new CreateVectorBucketCommand({ vectorBucketName: bucket }));
    await client.send(new CreateIndexCommand({ vectorBucketName: bucket, indexName, dataType: 'float32', dimension, distanceMetric: 'cosine' }));
    const data = Array.from({ length: vectors }, (_, i) => ({
      key: `k${i}`,
      data: { float32: Array.from({ length: dimension }, (_, d) => Math.sin(c * 31 + i * 7 + d)) },
      metadata: { genre: i % 3 === 0 ? 'a' : 'b', n: i },
    }));
    if (steps.has('put')) await client.send(new PutVectorsCommand({ vectorBucketName: bucket, indexName, vectors: data }));
    if (steps.has('query')) await client.send(new QueryVectorsCommand({ vectorBucketName: bucket, indexName, queryVector: data[0].data, topK: 5, filter: { genre: 'a' }, returnMetadata: true }));
    if (steps.has('list')) await client.send(new ListVectorsCommand({ vectorBucketName: bucket, indexName, maxResults: 10, returnMetadata: true }));
    await client.send(new DeleteIndexCommand({ vectorBucketName: bucket, indexName }));
    await client.send(new DeleteVectorBucketCommand({ vectorBucketName: bucket }));
  }
}

/** The JS heap from the server's last S3V_MEM_LOG_MS line, if it logs one. */
function lastMem(output: string): string {
  const lines = output.split('\n').filter((l) => l.includes('"mem"'));
  if (!lines.length) return '-\t-';
  try {
    const { heapUsed, heapTotal, lanceCache } = JSON.parse(lines[lines.length - 1]).mem;
    return `${Math.round(heapUsed)}/${Math.round(heapTotal)}\t${lanceCache}`;
  } catch {
    return '-\t-';
  }
}


async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cycles: { type: 'string', default: '1500' },
      every: { type: 'string', default: '150' },
      env: { type: 'string', multiple: true, default: [] },
      maint: { type: 'string', default: 'on' },
      label: { type: 'string', default: '' },
      steps: { type: 'string', default: 'put,query,list' },
      url: { type: 'string' },
      'node-arg': { type: 'string', multiple: true, default: [] },
    },
  });
  const env: Record<string, string> = { S3V_MEM_LOG_MS: '1000', S3V_LOG_LEVEL: 'info', S3V_MAINT: values.maint === 'off' ? 'off' : 'on' };
  for (const kv of values.env!) {
    const i = kv.indexOf('=');
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const cycles = Number(values.cycles);
  const every = Number(values.every);
  if (values.url) {
    // Drive a server started elsewhere (under heaptrack, say) with CHURN_CREDS as its root keys.
    const external = churnClient(values.url);
    await churn(external, cycles, { steps: values.steps!.split(',') });
    external.destroy();
    return;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 's3v-mem-churn-'));
  const server = await startChurnServer(dataDir, env, values['node-arg']);
  const pid = server.child.pid!;
  const client = churnClient(server.url);
  const started = Date.now();
  const rows: string[] = [];
  const sample = (requests: number) => {
    const workers = descendants(pid).map(rssMb).filter((r) => r > 0);
    const row = [requests, rssMb(pid), rssParts(pid), nativeMb(pid, server.output()), lastMem(server.output()), workers.length ? workers.join('+') : '-', Math.round((Date.now() - started) / 1000)].join('\t');
    rows.push(row);
    console.log(row);
  };
  console.log(`# ${values.label || Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  console.log('requests\trssMB\tanon/fileMB\tnativeMB\theap used/total MB\tlanceCacheMB\tworkerMB\tseconds');
  sample(0);
  try {
    for (let done = 0; done < cycles; done += every) {
      const n = Math.min(every, cycles - done);
      await churn(client, n, { start: done, steps: values.steps!.split(',') });
      sample((done + n) * REQUESTS_PER_CYCLE);
    }
  } finally {
    client.destroy();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

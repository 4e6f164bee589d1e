// The real local server as a child process (`node --import tsx bin/server.ts`, so the child's pid is
// the server itself and its /proc status is the server's memory), with its log kept in a file.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..');
export const REGION = 'us-east-1';
export const BENCH_CREDENTIALS = { accessKeyId: 'AKIABENCHROOT0000001', secretAccessKey: 'bench-root-secret-not-for-production' };

export interface ServerOptions {
  name: string;
  dataDir: string;
  auth: boolean;
  logDir: string;
  env?: Record<string, string>;
  /** Extra node flags for the server process (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

export interface MemorySample {
  /** Resident set now, bytes. */
  rss: number;
  /** Peak resident set since start, bytes. */
  hwm: number;
}

export class ServerProcess {
  private exited = false;

  private constructor(
    readonly options: ServerOptions,
    readonly child: ChildProcess,
    readonly url: string,
    readonly logFile: string,
  ) {
    child.once('exit', () => (this.exited = true));
  }

  get pid(): number {
    return this.child.pid!;
  }

  static async start(options: ServerOptions): Promise<ServerProcess> {
    mkdirSync(options.dataDir, { recursive: true });
    mkdirSync(options.logDir, { recursive: true });
    const logFile = join(options.logDir, `server-${options.name}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      S3V_ROOT_ACCESS_KEY_ID: BENCH_CREDENTIALS.accessKeyId,
      S3V_ROOT_SECRET_ACCESS_KEY: BENCH_CREDENTIALS.secretAccessKey,
      S3V_REGION: REGION,
      // Room for the bench's requests; AWS's defaults already allow 500 per PutVectors.
      S3V_MAX_TOP_K: process.env.S3V_MAX_TOP_K ?? '10000',
      S3V_QUERY_PAGE_SIZE: process.env.S3V_QUERY_PAGE_SIZE ?? '100',
      ...options.env,
    };
    if (options.auth) delete env.S3V_AUTH;
    else env.S3V_AUTH = 'off';
    // BENCH_SERVER_NODE_ARGS: extra flags for every bench server (e.g. '--cpu-prof --cpu-prof-dir=/tmp/p'), which NODE_OPTIONS refuses.
    const extra = process.env.BENCH_SERVER_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
    const child = spawn(process.execPath, [...extra, ...(options.nodeArgs ?? []), '--no-deprecation', '--import', 'tsx', 'bin/server.ts', '--host', '127.0.0.1', '--port', '0', '--data-dir', options.dataDir], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    const url = await new Promise<string>((resolveUrl, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`server ${options.name} did not start within 60 s; see ${logFile}`)), 60_000);
      const onData = (chunk: Buffer) => {
        seen += chunk.toString();
        const match = /listening on (http:\/\/[^\s]+)/.exec(seen);
        if (match) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          resolveUrl(match[1]);
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server ${options.name} exited with ${code} before listening; see ${logFile}`));
      });
    });
    return new ServerProcess(options, child, url, logFile);
  }

  memory(): MemorySample {
    return readMemory(this.pid);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await done;
    clearTimeout(timer);
  }
}

export function readMemory(pid: number): MemorySample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Samples a process's RSS every `ms` until stopped; returns the largest sample. */
export function sampleMemory(pid: number, ms = 250): { stop(): number } {
  let peak = 0;
  const tick = () => {
    try {
      peak = Math.max(peak, readMemory(pid).rss);
    } catch {
      /* process gone */
    }
  };
  tick();
  const timer = setInterval(tick, ms);
  return {
    stop: () => {
      clearInterval(timer);
      tick();
      return peak;
    },
  };
}

/** Apparent size of a folder tree in bytes (what `du -sb` prints). */
export function folderBytes(path: string): number {
  let total = 0;
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const entry of readdirSync(p)) walk(join(p, entry));
    else total += st.size;
  };
  walk(path);
  return total;
}

/** The index's Lance table folder: `<dataDir>/vectors/<bucket>.<index>.<id>.lance`. */
export function findStorageId(dataDir: string, bucket: string, index: string): string {
  const dir = join(dataDir, 'vectors');
  const found = readdirSync(dir).filter((name) => name.startsWith(`${bucket}.${index}.`));
  if (found.length !== 1) throw new Error(`expected one table for ${bucket}/${index} under ${dir}, found ${found.join(', ') || 'none'}`);
  return found[0].replace(/\.lance$/, '');
}

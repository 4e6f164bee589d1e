// The server's side of the maintenance worker (worker.ts): one child process, started on the first
// action and started again if it dies; one action at a time, each answered by id.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LanceStoreOptions } from '../adapters/lance/lance-store';
import { logger } from '../runtime/logger';
import { HEARTBEAT_MS, WORKER_STORAGE_ENV, type WorkerJob, type WorkerReply, type WorkerRequest } from './worker-protocol';

/**
 * A worker silent this long (no heartbeat: stopped by SIGSTOP, frozen, swapped out) is killed, so
 * its action fails and the next pass starts a new worker instead of maintenance waiting forever.
 */
const STALL_MS = Number(process.env.S3V_MAINT_WORKER_STALL_SECONDS ?? 30) * 1000;
/**
 * A silent worker that still gets CPU time and is not stopped is starved, not frozen: its idle-class
 * threads (and the heartbeat's) wait for other work (measured at load 30-40 on 2 cores: 56 s
 * without a heartbeat mid-build, and the kill threw away a 14-minute build). It gets more time,
 * up to this many stall periods of silence in a row.
 */
const STARVED_MAX_PERIODS = 10;
/** A worker that does not end within this after SIGTERM (a stopped one cannot) gets SIGKILL. */
const CLOSE_GRACE_MS = 2000;

/**
 * The worker's thread pools, in its environment only (the server keeps its own): with
 * S3V_MAINT_WORKER_THREADS=n (n > 0), Lance's CPU pool, the rayon pool its HNSW builds run on and
 * the tokio runtime of LanceDB's Node binding get n threads each. Unset or 0: LanceDB's defaults.
 */
export function workerThreadsEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const threads = Number(env.S3V_MAINT_WORKER_THREADS ?? 0);
  if (!Number.isInteger(threads) || threads <= 0) return {};
  const n = String(threads);
  return { LANCE_CPU_THREADS: n, RAYON_NUM_THREADS: n, TOKIO_WORKER_THREADS: n };
}

/** A process's state letter and CPU ticks (utime + stime, every thread) from /proc; undefined without /proc. */
export function procSample(pid: number | undefined): { state: string; ticks: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** Silent, yet used CPU since its last sign and is neither stopped nor dead: starved by other work, still working. */
export function starved(now: { state: string; ticks: number } | undefined, atLastSign: number | undefined): boolean {
  if (!now || atLastSign === undefined || !Number.isFinite(now.ticks)) return false;
  return !['T', 't', 'Z', 'X'].includes(now.state) && now.ticks > atLastSign;
}

/** The worker process could not be started (e.g. no tsx to run its TypeScript source). */
export class WorkerStartError extends Error {}

interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

/** The worker's entry: compiled JavaScript beside this file, or the TypeScript source through tsx. */
function entry(): { file: string; execArgv: string[] } {
  const js = join(__dirname, 'worker.js');
  if (existsSync(js)) return { file: js, execArgv: [] };
  return { file: join(__dirname, 'worker.ts'), execArgv: ['--import', 'tsx'] };
}

export class MaintenanceWorker {
  private child?: ChildProcess;
  private ready?: Promise<ChildProcess>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private lastSign = 0;
  /** Since the last heartbeat or reply (lastSign also moves on while the worker is only starved). */
  private silentSince = 0;
  /** The worker's CPU ticks at lastSign, to tell a starved worker from a frozen one. */
  private ticksAtSign: number | undefined;
  private watchdog?: NodeJS.Timeout;

  constructor(private readonly storage: LanceStoreOptions) {}

  private start(): Promise<ChildProcess> {
    if (this.ready) return this.ready;
    const { file, execArgv } = entry();
    let child: ChildProcess;
    try {
      // The storage options may hold S3 keys: in the environment (readable by this user only), not
      // on the command line, which every local user can read in /proc.
      const env = { ...process.env, ...workerThreadsEnv(process.env), [WORKER_STORAGE_ENV]: JSON.stringify(this.storage) };
      child = fork(file, [], { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    } catch (error) {
      return Promise.reject(new WorkerStartError(String(error)));
    }
    this.child = child;
    logger.info({ event: 'maintenance.worker-started', workerPid: child.pid }, 'maintenance worker started');
    this.ready = new Promise<ChildProcess>((resolve, reject) => {
      const onFirst = (reply: WorkerReply) => {
        if (reply.id === 0) resolve(child);
      };
      child.once('message', onFirst);
      child.once('error', (error) => reject(new WorkerStartError(String(error))));
      child.once('exit', (code) => reject(new WorkerStartError(`the maintenance worker exited (${code}) while starting`)));
    });
    this.lastSign = Date.now();
    this.silentSince = this.lastSign;
    this.ticksAtSign = procSample(child.pid)?.ticks;
    child.on('message', (reply: WorkerReply | { heartbeat: true }) => {
      this.lastSign = Date.now();
      this.silentSince = this.lastSign;
      this.ticksAtSign = procSample(child.pid)?.ticks;
      if (!('id' in reply)) return;
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiting.resolve();
      else waiting.reject(new Error(reply.error));
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) {
        this.child = undefined;
        this.ready = undefined;
      }
      if (this.watchdog && this.child === undefined) {
        clearInterval(this.watchdog);
        this.watchdog = undefined;
      }
      const error = new Error(`the maintenance worker exited (${signal ?? code}) during the action`);
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    });
    // The worker never keeps the server alive on its own.
    child.unref();
    child.channel?.unref();
    clearInterval(this.watchdog);
    this.watchdog = setInterval(() => {
      if (this.child !== child || Date.now() - this.lastSign < STALL_MS) return;
      const sample = procSample(child.pid);
      if (starved(sample, this.ticksAtSign) && Date.now() - this.silentSince < STALL_MS * STARVED_MAX_PERIODS) {
        logger.info({ event: 'maintenance.worker-starved', workerPid: child.pid, silentMs: Date.now() - this.silentSince }, 'maintenance worker silent but still getting CPU: waiting');
        this.lastSign = Date.now();
        this.ticksAtSign = sample!.ticks;
        return;
      }
      logger.warn({ event: 'maintenance.worker-stalled', workerPid: child.pid, silentMs: Date.now() - this.silentSince }, 'maintenance worker unresponsive: killed');
      child.kill('SIGKILL');
    }, Math.min(HEARTBEAT_MS, STALL_MS));
    this.watchdog.unref();
    return this.ready;
  }

  async run(job: WorkerJob): Promise<void> {
    if (this.closed) throw new Error('the maintenance worker is closed');
    const child = await this.start();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      child.send({ ...job, id } as WorkerRequest);
    });
  }

  /** The worker's process id (tests kill it), or undefined while none runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Ends the worker; an action in flight is abandoned (it commits nothing). */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    clearInterval(this.watchdog);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    // A stopped (SIGSTOP) or frozen worker never handles SIGTERM: the server's shutdown must not wait on it.
    const force = setTimeout(() => child.kill('SIGKILL'), CLOSE_GRACE_MS);
    await exited;
    clearTimeout(force);
  }
}

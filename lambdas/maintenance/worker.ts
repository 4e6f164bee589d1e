// The maintenance worker: a child process of the local server that runs the heavy maintenance
// actions (ANN and scalar index builds, optimize). Why a process: LanceDB runs CPU work on one
// process-wide pool, sized cores − 2 (one thread on a small machine), and an index build holds it
// for the whole build, so in the server's own process every PutVectors (which needs that pool to
// encode its rows) waited for the build to end. Here the build has its own pool, at the lowest CPU
// priority (every thread at nice 19, or S3V_MAINT_WORKER_NICE, and SCHED_IDLE), so requests come
// first; it meets the server's writes only at its commit, where Lance resolves or retries it.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { LanceVectorStore, type LanceStoreOptions } from '../adapters/lance/lance-store';
import { HEARTBEAT, HEARTBEAT_MS, WORKER_STORAGE_ENV, type WorkerReply, type WorkerRequest } from './worker-protocol';

const storage = JSON.parse(process.env[WORKER_STORAGE_ENV] ?? '{}') as LanceStoreOptions;
delete process.env[WORKER_STORAGE_ENV];
// Other processes (the server) write these tables: always build on their latest version.
const store = new LanceVectorStore({ ...storage, readConsistencySeconds: 0 });

lowerPriority(Number(process.env.S3V_MAINT_WORKER_NICE ?? 19));
idleScheduling(process.env.S3V_MAINT_WORKER_SCHED ?? 'idle');

/**
 * Nice for every thread of this process, not only the calling one (Linux's setpriority is per
 * thread): LanceDB's tokio threads, which run the builds, start before this line (measured: nice 0
 * while the main thread had 19). Threads started later inherit it from these.
 */
function lowerPriority(nice: number): void {
  let threads = [0];
  try {
    if (process.platform === 'linux') threads = readdirSync('/proc/self/task').map(Number);
  } catch {
    // No /proc: the calling thread only.
  }
  for (const tid of threads) {
    try {
      setPriority(tid, nice);
    } catch {
      // Not permitted here (or the thread ended): that thread keeps the server's priority.
    }
  }
}

/**
 * SCHED_IDLE for every thread of this process (threads started later inherit it): a CPU the server
 * wants is its own at once, where nice 19 alone still lets a build's threads hold a core for a
 * time slice while a write waits. Linux only, through util-linux's chrt; elsewhere nice alone.
 */
function idleScheduling(policy: string): void {
  if (policy !== 'idle' || process.platform !== 'linux') return;
  try {
    execFileSync('chrt', ['--idle', '--all-tasks', '--pid', '0', String(process.pid)], { stdio: 'ignore', timeout: 5000 });
  } catch {
    // No chrt (or not permitted): nice only.
  }
}

// The server went away (exit, crash, SIGKILL): an unfinished action commits nothing, so just go.
process.on('disconnect', () => process.exit(0));

async function run(request: WorkerRequest): Promise<void> {
  switch (request.op) {
    case 'vector-index':
      return store.createVectorIndex(request.index, request.params);
    case 'scalar-index':
      return store.createScalarIndex(request.index, request.column, request.kind);
    case 'optimize':
      await store.optimize(request.index, new Date(request.pruneOlderThan));
      return;
    case 'drop-vector-index':
      return store.dropVectorIndex(request.index);
  }
}

process.on('message', (request: WorkerRequest) => {
  run(request).then(
    () => process.send?.({ id: request.id, ok: true } satisfies WorkerReply),
    (error: unknown) => process.send?.({ id: request.id, ok: false, error: String((error as Error)?.message ?? error) } satisfies WorkerReply),
  );
});
process.send?.({ id: 0, ok: true } satisfies WorkerReply);
// Tells the server this process still runs (a stopped or frozen worker stops sending: worker-client.ts).
setInterval(() => process.send?.(HEARTBEAT), HEARTBEAT_MS).unref();

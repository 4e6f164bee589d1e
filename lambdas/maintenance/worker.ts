// The maintenance worker: a child process of the local server that runs the heavy maintenance
// actions (ANN and scalar index builds, optimize). Why a process: LanceDB runs CPU work on one
// process-wide pool, sized cores − 2 (one thread on a small machine), and an index build holds it
// for the whole build, so in the server's own process every PutVectors (which needs that pool to
// encode its rows) waited for the build to end. Here the build has its own pool, at the lowest CPU
// priority (nice 19, or S3V_MAINT_WORKER_NICE), so requests come first; it meets the server's writes
// only at its commit, where Lance resolves or retries it.
import { setPriority } from 'node:os';
import { LanceVectorStore, type LanceStoreOptions } from '../adapters/lance/lance-store';
import { HEARTBEAT, HEARTBEAT_MS, WORKER_STORAGE_ENV, type WorkerReply, type WorkerRequest } from './worker-protocol';

const storage = JSON.parse(process.env[WORKER_STORAGE_ENV] ?? '{}') as LanceStoreOptions;
delete process.env[WORKER_STORAGE_ENV];
// Other processes (the server) write these tables: always build on their latest version.
const store = new LanceVectorStore({ ...storage, readConsistencySeconds: 0 });

try {
  setPriority(Number(process.env.S3V_MAINT_WORKER_NICE ?? 19));
} catch {
  // Not permitted here: same priority as the server.
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

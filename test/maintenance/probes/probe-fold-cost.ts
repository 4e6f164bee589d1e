// Probe (not a test): the cost of folding 2,500 new rows into a 60k × 784-d Fashion-MNIST index,
// in the maintenance worker process. `build` makes the base table once (57,500 rows, compacted,
// ANN + BTREE + LABEL_LIST); `fold <mode>` copies it, writes 2,500 rows in 5 commits and times one
// way of indexing them. Run: npx tsx test/maintenance/probes/probe-fold-cost.ts build|fold MODE
import { cpSync, existsSync, rmSync } from 'node:fs';
import { fashionMnist } from '../../../bench/datasets';
import { LanceVectorStore } from '../../../lambdas/adapters/lance/lance-store';
import { DEFAULT_MAINTENANCE_CONFIG } from '../../../lambdas/maintenance/config';
import { vectorIndexParams } from '../../../lambdas/maintenance/decide';
import { MaintenanceWorker } from '../../../lambdas/maintenance/worker-client';
import type { WorkerJob } from '../../../lambdas/maintenance/worker-protocol';
import { indexRecord } from '../helpers';

const BASE = process.env.PROBE_BASE ?? '/tmp/fold/fm-base';
const WORK = process.env.PROBE_WORK ?? '/tmp/fold/fm-work';
const BASE_ROWS = 57_500;
const NEW_ROWS = 2_500;
const index = { ...indexRecord('fm', 784), storageId: 'fm' };
const ds = fashionMnist(BASE_ROWS + NEW_ROWS, 0, console.log);

async function put(store: LanceVectorStore, from: number, to: number, batch: number): Promise<void> {
  for (let s = from; s < to; s += batch) {
    const e = Math.min(to, s + batch);
    await store.put(index, { keys: Array.from({ length: e - s }, (_, i) => ds.key(s + i)), data: ds.vectors.slice(s * 784, e * 784), metadata: Array.from({ length: e - s }, (_, i) => ds.metadata(s + i)) });
  }
}

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const result = await run();
  console.log(`${label}: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  return result;
}

async function main(): Promise<void> {
  // The worker never keeps its parent alive (worker-client.ts): this probe must.
  setInterval(() => undefined, 1000);
  const [what, mode] = process.argv.slice(2);
  if (what === 'build') {
    rmSync(BASE, { recursive: true, force: true });
    const store = new LanceVectorStore({ uri: BASE });
    const worker = new MaintenanceWorker(store.storage);
    await timed('put 57,500', () => put(store, 0, BASE_ROWS, 5000));
    const run = (job: WorkerJob) => worker.run(job).then(() => store.refresh(index));
    if (!process.env.PROBE_NO_COMPACT) await timed('compact', () => run({ op: 'optimize', index, pruneOlderThan: Date.now() }));
    await timed('HNSW_SQ build (worker)', () => run({ op: 'vector-index', index, params: vectorIndexParams(DEFAULT_MAINTENANCE_CONFIG, BASE_ROWS) }));
    await timed('BTREE', () => run({ op: 'scalar-index', index, column: 'key', kind: 'BTREE' }));
    await timed('LABEL_LIST', () => run({ op: 'scalar-index', index, column: 'meta_tokens', kind: 'LABEL_LIST' }));
    console.log(JSON.stringify(await store.tableStats(index)));
    await worker.close();
    await store.close();
    return;
  }
  if (!existsSync(BASE)) throw new Error('run build first');
  rmSync(WORK, { recursive: true, force: true });
  cpSync(BASE, WORK, { recursive: true });
  const store = new LanceVectorStore({ uri: WORK });
  const worker = new MaintenanceWorker(store.storage);
  await put(store, BASE_ROWS, BASE_ROWS + NEW_ROWS, 500);
  console.log('before', JSON.stringify((await store.tableStats(index))!.indices.map((i) => [i.name, i.indexedRows, i.unindexedRows, i.segments])));
  const run = (job: WorkerJob) => worker.run(job).then(() => store.refresh(index));
  // Starts the worker outside the timing (an op it does not know: answered at once, does nothing).
  await worker.run({ op: 'start', index } as never);
  if (mode === 'optimize') await timed('optimize (compact + prune + fold)', () => run({ op: 'optimize', index, pruneOlderThan: 0 }));
  else if (mode === 'fold') {
    // The fold without compaction (maintenance's 'fold' action): the lagging indexes rebuilt.
    await timed('fold only (BTREE + LABEL_LIST + HNSW_SQ rebuilt)', async () => {
      await run({ op: 'scalar-index', index, column: 'key', kind: 'BTREE' });
      await run({ op: 'scalar-index', index, column: 'meta_tokens', kind: 'LABEL_LIST' });
      await run({ op: 'vector-index', index, params: vectorIndexParams(DEFAULT_MAINTENANCE_CONFIG, BASE_ROWS + NEW_ROWS) });
    });
  }
  const stats = (await store.tableStats(index))!;
  console.log('after', stats.fragments, 'fragments', JSON.stringify(stats.indices.map((i) => [i.name, i.indexedRows, i.unindexedRows, i.segments])));
  await worker.close();
  await store.close();
}

main().then(() => process.exit(0)).catch((error) => {
  console.error(error);
  process.exit(1);
});

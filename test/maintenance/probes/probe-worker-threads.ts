// Probe (not a test): which threads of the maintenance worker run during an ANN build, with which
// scheduling policy and nice value (ps -L), under the worker's thread settings in the environment.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LanceVectorStore } from '../../../lambdas/adapters/lance/lance-store';
import { MaintenanceWorker } from '../../../lambdas/maintenance/worker-client';
import { indexRecord, putAll, rows } from '../helpers';

async function main(): Promise<void> {
  setInterval(() => undefined, 1000);
  const dir = mkdtempSync(join(tmpdir(), 's3v-threads-'));
  const store = new LanceVectorStore({ uri: dir });
  const index = indexRecord('t', 128);
  await putAll(store, index, rows('k', 0, 20_000, 128, 1), 5000);
  const worker = new MaintenanceWorker(store.storage);
  await worker.run({ op: 'optimize', index, pruneOlderThan: 0 });
  const t0 = performance.now();
  const build = worker.run({ op: 'vector-index', index, params: { kind: 'HNSW_SQ', numPartitions: 1, m: 20, efConstruction: 300 } });
  let done = false;
  build.finally(() => (done = true)).catch(() => undefined);
  for (const at of [3000, 8000, 8000, 8000]) {
    await new Promise((resolve) => setTimeout(resolve, at));
    if (done) break;
    // Threads busy now (top's share over its sampling interval), their policy and nice value.
    const top = execFileSync('top', ['-H', '-b', '-n', '2', '-d', '1', '-p', String(worker.pid)]).toString().split('\n\n\n').pop()!;
    const busy = top.split('\n').filter((l) => /^\s*\d+/.test(l) && Number(l.trim().split(/\s+/)[8]) > 5);
    console.log(`${Math.round(performance.now() - t0)} ms:`, busy.map((l) => l.trim().split(/\s+/).filter((_, i) => [0, 2, 3, 8, 11].includes(i)).join(' ')));
  }
  console.log(execFileSync('ps', ['-L', '-o', 'tid,cls,ni,comm', '-p', String(worker.pid)]).toString().split('\n').slice(0, 3).join('\n'));
  await build;
  console.log(`build ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await worker.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});

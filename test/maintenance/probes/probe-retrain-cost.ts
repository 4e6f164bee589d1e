// Probe (not a test): the retrain of an index most of whose rows are outside the ANN index, as
// after a fast ingest that outgrew the index it built early (issue 16's 1M run). `build` makes the
// base once: BASE rows (synthetic 768-d cosine) compacted, HNSW_SQ + BTREE + LABEL_LIST. `run MODE`
// copies it, writes NEW rows in commits of 500 (one fragment each) and times maintenance's decision:
//   old: optimize (compact, remapping the old index, and fold every new row into it), then retrain;
//   new: drop the ANN index, optimize (compact, nothing to remap or fold), then build.
// In this process (not the idle-class worker), so a loaded machine still gives it its share.
// Run: PROBE_BASE_ROWS=15000 PROBE_NEW_ROWS=45000 npx tsx test/maintenance/probes/probe-retrain-cost.ts build|run old|new
import { cpSync, existsSync, rmSync } from 'node:fs';
import { synthetic } from '../../../bench/datasets';
import { LanceVectorStore } from '../../../lambdas/adapters/lance/lance-store';
import { DEFAULT_MAINTENANCE_CONFIG } from '../../../lambdas/maintenance/config';
import { vectorIndexParams } from '../../../lambdas/maintenance/decide';
import { indexRecord } from '../helpers';

const BASE = process.env.PROBE_BASE ?? '/tmp/retrain-probe/base';
const WORK = process.env.PROBE_WORK ?? '/tmp/retrain-probe/work';
const BASE_ROWS = Number(process.env.PROBE_BASE_ROWS ?? 15_000);
const NEW_ROWS = Number(process.env.PROBE_NEW_ROWS ?? 45_000);
const DIM = 768;
const index = { ...indexRecord('rt', DIM, 'cosine'), storageId: 'rt' };
const ds = synthetic(BASE_ROWS + NEW_ROWS, DIM, 1, 'cosine');

async function put(store: LanceVectorStore, from: number, to: number, batch: number): Promise<void> {
  for (let s = from; s < to; s += batch) {
    const e = Math.min(to, s + batch);
    await store.put(index, { keys: Array.from({ length: e - s }, (_, i) => ds.key(s + i)), data: ds.vectors.slice(s * DIM, e * DIM), metadata: Array.from({ length: e - s }, (_, i) => ds.metadata(s + i)) });
  }
}

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const result = await run();
  console.log(`${label}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return result;
}

const describe = async (store: LanceVectorStore) => {
  const s = (await store.tableStats(index))!;
  return `${s.rows} rows, ${s.fragments} fragments, ${JSON.stringify(s.indices.map((i) => [i.name, i.indexedRows, i.unindexedRows, i.segments]))}`;
};

async function main(): Promise<void> {
  const [what, mode] = process.argv.slice(2);
  const params = vectorIndexParams(DEFAULT_MAINTENANCE_CONFIG, BASE_ROWS + NEW_ROWS);
  if (what === 'build') {
    rmSync(BASE, { recursive: true, force: true });
    const store = new LanceVectorStore({ uri: BASE });
    await timed(`put ${BASE_ROWS}`, () => put(store, 0, BASE_ROWS, 500));
    await timed('compact', () => store.optimize(index, new Date()));
    await timed('HNSW_SQ build', () => store.createVectorIndex(index, vectorIndexParams(DEFAULT_MAINTENANCE_CONFIG, BASE_ROWS)));
    await store.createScalarIndex(index, 'key', 'BTREE');
    await store.createScalarIndex(index, 'meta_tokens', 'LABEL_LIST');
    console.log('base', await describe(store));
    await store.close();
    return;
  }
  if (!existsSync(BASE)) throw new Error('run build first');
  rmSync(WORK, { recursive: true, force: true });
  cpSync(BASE, WORK, { recursive: true });
  const store = new LanceVectorStore({ uri: WORK });
  await put(store, BASE_ROWS, BASE_ROWS + NEW_ROWS, 500);
  console.log('before', await describe(store));
  const t0 = performance.now();
  if (mode === 'old') {
    await timed('optimize (compact + remap + fold the new rows into the old index)', () => store.optimize(index, new Date(0)));
    console.log('  then', await describe(store));
    await timed('retrain (build over every row)', () => store.createVectorIndex(index, params));
  } else if (mode === 'new') {
    await timed('drop the ANN index', () => store.dropVectorIndex(index));
    await timed('optimize (compact, scalar folds only)', () => store.optimize(index, new Date(0)));
    await timed('build over every row', () => store.createVectorIndex(index, params));
  } else throw new Error('mode: old | new');
  console.log(`${mode} total: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log('after', await describe(store));
  await store.close();
}

main().then(() => process.exit(0)).catch((error) => {
  console.error(error);
  process.exit(1);
});

// A retrain when most rows are outside the ANN index (a fast ingest outgrowing the index it built
// early, issue 16's 1M run): the old index is dropped, the fragments compacted, one index built over
// every row. No optimize runs in front of it (that would remap the old index and fold every new row
// into it just before replacing it), and queries stay complete throughout (exact search meanwhile).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { vectorIndexOf } from '../../lambdas/adapters/lance/index-stats';
import { DEFAULT_MAINTENANCE_CONFIG, type MaintenanceConfig } from '../../lambdas/maintenance/config';
import { runMaintenanceOnce } from '../../lambdas/maintenance/maintenance';
import { bruteForce, indexRecord, memoryCatalog, putAll, recall, rowVector, rows, vectors, type Rows } from './helpers';

const DIM = 16;
const config: MaintenanceConfig = { ...DEFAULT_MAINTENANCE_CONFIG, annMinRows: 2000, keyIndexMinRows: 2000, foldMinRows: 100_000, foldMaxAgeSeconds: 3600 };

let dir: string;
let store: LanceVectorStore;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 's3v-retrain-'));
  store = new LanceVectorStore({ uri: dir });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('most rows unindexed: drop, compact, build over every row; queries complete meanwhile', async () => {
  const index = indexRecord('retrain', DIM);
  const deps = { catalog: memoryCatalog([index]) as never, store };
  const all: Rows[] = [rows('a', 0, 3000, DIM, 1)];
  await putAll(store, index, all[0]);
  await runMaintenanceOnce(deps, { config, catchUp: true });
  expect(vectorIndexOf((await store.tableStats(index))!)).toMatchObject({ indexedRows: 3000, unindexedRows: 0 });

  // 5,000 more rows in 10 commits (10 fragments): most rows are now outside the index.
  all.push(rows('b', 3000, 5000, DIM, 2));
  await putAll(store, index, all[1]);
  const before = (await store.tableStats(index))!;
  expect(before.fragments).toBeGreaterThan(5);
  expect(vectorIndexOf(before)).toMatchObject({ indexedRows: 3000, unindexedRows: 5000 });

  // Queries beside the run: a stored row's own vector must always come back first, at distance 0.
  let running = true;
  let checked = 0;
  const probe = (async () => {
    for (let i = 0; running; i++) {
      const r = all[i % 2];
      const row = (i * 379) % r.keys.length;
      const [top] = await store.query(index, { vector: rowVector(r, row, DIM), topK: 1, metadata: false });
      expect(top).toEqual({ key: r.keys[row], distance: 0 });
      checked++;
    }
  })();
  const report = await runMaintenanceOnce(deps, { config });
  running = false;
  await probe;
  expect(checked).toBeGreaterThan(0);

  const actions = report.indexes[0].actions;
  expect(actions[0]).toMatchObject({ kind: 'vector-index' });
  expect(actions[0].reason).toMatch(/8000 rows ≥ 2 × 3000 trained/);
  expect(actions.filter((a) => a.error)).toEqual([]);
  const after = (await store.tableStats(index))!;
  // One segment over every row, the fragments compacted.
  expect(vectorIndexOf(after)).toMatchObject({ indexedRows: 8000, unindexedRows: 0, segments: 1 });
  expect(after.fragments).toBeLessThanOrEqual(2);
  expect(await store.maintenanceState.read(index.storageId)).toMatchObject({ trainedRows: 8000 });

  const qs = vectors(20, DIM, 77);
  let total = 0;
  for (let i = 0; i < 20; i++) {
    const q = qs.slice(i * DIM, (i + 1) * DIM);
    total += recall(await store.query(index, { vector: q, topK: 10, metadata: false }), bruteForce(all, DIM, q, 10));
  }
  expect(total / 20).toBeGreaterThanOrEqual(0.98);
}, 120_000);

// Under a steady stream of upserts of existing keys, maintenance still folds new rows into the
// indexes. Lance's optimize compacts first, and a compaction loses its commit to any upsert that
// deleted rows of the fragments it rewrote ("Rewrite transaction was preempted by concurrent
// transaction Update"); the fold-in came only after the compaction, so it was lost with it, and
// an index under continuous upserts never got its new rows indexed (review-data F2: 0 of 5
// optimizes committed at 9 upserts/s). Now the fold does not depend on compaction.
import { vectorIndexOf } from '../../lambdas/adapters/lance/index-stats';
import { DEFAULT_MAINTENANCE_CONFIG, type MaintenanceConfig } from '../../lambdas/maintenance/config';
import { runMaintenanceOnce } from '../../lambdas/maintenance/maintenance';
import { indexRecord, memoryCatalog, normalPriorityWorkerStore, putAll, rows, vectors } from '../maintenance/helpers';

jest.setTimeout(300_000);

const DIM = 32;
const KEYS = 6000;
const UPSERT_SECONDS = 24;
const MAX_UPSERT_SECONDS = 120;
const config: MaintenanceConfig = {
  ...DEFAULT_MAINTENANCE_CONFIG,
  annMinRows: 1000,
  keyIndexMinRows: 1000,
  foldMinRows: 100,
  foldMaxAgeSeconds: 1,
  compactMinFragments: 8,
  hnswEfConstruction: 100,
};

const h = normalPriorityWorkerStore('s3v-fold-');

test('new rows get indexed while upserts of existing keys never pause', async () => {
  const index = indexRecord('fold', DIM);
  const deps = { catalog: memoryCatalog([index]) as never, store: h.store };
  await putAll(h.store, index, rows('k', 0, KEYS, DIM, 1), 2000);
  for (let i = 0; i < 2; i++) await runMaintenanceOnce(deps, { config, catchUp: true, worker: h.worker });
  const settled = vectorIndexOf((await h.store.tableStats(index))!)!;
  expect(settled.unindexedRows).toBe(0);

  // about 15 upserts/s of 30 random existing keys each, for the whole test.
  let stop = false;
  let upserts = 0;
  const writer = (async () => {
    let seed = 100;
    while (!stop) {
      const keys = [...new Set(Array.from({ length: 30 }, () => `k${Math.floor(Math.random() * KEYS)}`))];
      await h.store.put(index, { keys, data: vectors(keys.length, DIM, seed++), metadata: keys.map(() => ({ group: 'g1' })) });
      upserts++;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();

  const samples: { at: number; unindexed: number; tokensUnindexed: number; actions: string[] }[] = [];
  const started = Date.now();
  const committedLate = () => samples.filter((s) => s.at >= UPSERT_SECONDS / 2 && s.actions.some((a) => !a.endsWith('!'))).length;
  try {
    // UPSERT_SECONDS, and on (up to MAX_UPSERT_SECONDS) until the second half holds two passes that
    // committed: a loaded machine's fold passes take 10–15 s each (the worker runs at idle priority),
    // which left just two samples in 24 s. Without the fix the unindexed rows only grow, however long.
    while (Date.now() - started < UPSERT_SECONDS * 1000 || (committedLate() < 2 && Date.now() - started < MAX_UPSERT_SECONDS * 1000)) {
      const report = await runMaintenanceOnce(deps, { config, worker: h.worker });
      const stats = (await h.store.tableStats(index))!;
      const tokens = stats.indices.find((i) => i.columns[0] === 'meta_tokens')!;
      samples.push({
        at: Math.round((Date.now() - started) / 1000),
        unindexed: vectorIndexOf(stats)!.unindexedRows,
        tokensUnindexed: tokens.unindexedRows,
        actions: report.indexes[0].actions.map((a) => `${a.kind}${a.error ? '!' : ''}`),
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  } finally {
    stop = true;
    await writer;
  }
  const seconds = (Date.now() - started) / 1000;
  const figures = { seconds: Math.round(seconds), upserts, upsertsPerSecond: +(upserts / seconds).toFixed(1), samples };
  console.log(JSON.stringify(figures));

  // Every upsert's rows are new rows (Lance deletes the old ones). Without a fold that survives the
  // upserts, the unindexed rows only grow, to a third of the table and more by the second half
  // (measured: 2,025 to 3,123 of 6,000); with it, each pass brings them back to about the rows
  // written while the fold ran (measured: 292 to 678).
  const secondHalf = samples.filter((s) => s.at >= UPSERT_SECONDS / 2);
  expect(secondHalf.filter((s) => s.actions.some((a) => !a.endsWith('!'))).length).toBeGreaterThanOrEqual(2);
  expect(Math.min(...secondHalf.map((s) => s.unindexed))).toBeLessThan(KEYS / 4);
  expect(Math.min(...secondHalf.map((s) => s.tokensUnindexed))).toBeLessThan(KEYS / 4);
  // The table keeps one row per key.
  expect((await h.store.tableStats(index))!.rows).toBe(KEYS);
});

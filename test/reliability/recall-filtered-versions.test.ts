// Filtered ANN queries while versions pile up (nothing pruned, nothing compacted, folds rebuilding
// the indexes under steady upserts): what review-rel-fold saw as "filtered recall 0.5" with the
// locked optimize off. The cause was the measure, not the search: after minutes of random upserts
// every key had been rewritten into g1, so g2 matched no row, the (right) empty answer was scored
// 0 by a recall() that divided by max(1, |truth|), and the mean of g1 (1.0) and g2 (0) was 0.5.
// Here every filter shape of that run is checked under the same conditions, in well under a
// minute: an emptied group, a group the upserts never touch, a handful of rows left in fragments
// whose other rows were deleted, and the group every upsert goes to.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { vectorIndexOf } from '../../lambdas/adapters/lance/index-stats';
import { DEFAULT_MAINTENANCE_CONFIG, type MaintenanceConfig } from '../../lambdas/maintenance/config';
import { runMaintenanceOnce } from '../../lambdas/maintenance/maintenance';
import { bruteForce, indexRecord, memoryCatalog, putAll, recall, rows, vectors, type Rows } from '../maintenance/helpers';

jest.setTimeout(240_000);

const DIM = 16;
const KEYS = 4000;
const UPSERT_MS = 15_000;
const LEFT_IN_G3 = 5;
const config: MaintenanceConfig = {
  ...DEFAULT_MAINTENANCE_CONFIG,
  annMinRows: 1000,
  keyIndexMinRows: 1000,
  foldMinRows: 100,
  foldMaxAgeSeconds: 1,
  hnswEfConstruction: 100,
  // What review-rel-fold had when it scored 0.5: no locked optimize (nothing commits a compaction
  // under the upserts, so nothing is pruned) and old versions kept.
  lockedOptimizeMaxSeconds: 0,
  keepVersionsSeconds: 3600,
};

let dir: string;
let store: LanceVectorStore;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 's3v-recall-fv-'));
  store = new LanceVectorStore({ uri: dir });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('recall() scores an empty answer to a filter that matches nothing as complete', () => {
  expect(recall([], [])).toBe(1);
  expect(recall([{ key: 'x', distance: 0 }], [])).toBe(0);
  expect(recall([{ key: 'a', distance: 0 }], ['a', 'b'])).toBe(0.5);
});

test('filtered ANN queries stay complete while versions and index rebuilds pile up', async () => {
  const index = indexRecord('recallfv', DIM);
  const deps = { catalog: memoryCatalog([index]) as never, store };
  const base = rows('k', 0, KEYS, DIM, 1);
  await putAll(store, index, base, 1000);
  for (let i = 0; i < 2; i++) await runMaintenanceOnce(deps, { config, catchUp: true });
  expect(vectorIndexOf((await store.tableStats(index))!)!.unindexedRows).toBe(0);

  const latest = new Map<string, Float32Array>(base.keys.map((k, i) => [k, base.data.slice(i * DIM, (i + 1) * DIM)]));
  const group = new Map<string, string>(base.keys.map((k, i) => [k, base.metadata[i].group as string]));
  // g2 is never written; LEFT_IN_G3 g3 keys are never written either. Every other key is written
  // once (in shuffled order) before random upserts go on, so g0, g3 (but its few), g4… end empty.
  const g3 = base.keys.filter((k) => group.get(k) === 'g3');
  const writable = base.keys.filter((k) => group.get(k) !== 'g2' && !g3.slice(0, LEFT_IN_G3).includes(k));
  const firstPass = [...writable].sort(() => Math.random() - 0.5);
  let stop = false;
  let upserts = 0;
  const writer = (async () => {
    let seed = 100;
    while (!stop || firstPass.length > 0) {
      const keys = firstPass.length ? firstPass.splice(0, 30) : [...new Set(Array.from({ length: 30 }, () => writable[Math.floor(Math.random() * writable.length)]))];
      const data = vectors(keys.length, DIM, seed++);
      await store.put(index, { keys, data, metadata: keys.map(() => ({ group: 'g1' })) });
      keys.forEach((k, i) => {
        latest.set(k, data.slice(i * DIM, (i + 1) * DIM));
        group.set(k, 'g1');
      });
      upserts++;
    }
  })();
  const actions = new Set<string>();
  const started = Date.now();
  try {
    while (Date.now() - started < UPSERT_MS) {
      const report = await runMaintenanceOnce(deps, { config });
      for (const a of report.indexes[0].actions) actions.add(`${a.kind}${a.error ? '!' : ''}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    stop = true;
    await writer;
  }
  const root = join(dir, readdirSync(dir).find((name) => name.endsWith('.lance') && !name.startsWith('_'))!);
  const versions = readdirSync(join(root, '_versions')).length;
  const indexDirs = readdirSync(join(root, '_indices')).length;
  const stats = (await store.tableStats(index))!;

  const keys = [...latest.keys()];
  const now: Rows = { keys, data: new Float32Array(keys.flatMap((k) => [...latest.get(k)!])), metadata: keys.map((k) => ({ group: group.get(k)! })) };
  const counts = Object.fromEntries(['g0', 'g1', 'g2', 'g3'].map((g) => [g, now.metadata.filter((m) => m.group === g).length]));
  // The shapes the run must have had to mean anything.
  expect(counts).toEqual({ g0: 0, g1: KEYS - 400 - LEFT_IN_G3, g2: 400, g3: LEFT_IN_G3 });
  expect(stats.rows).toBe(KEYS);

  const ann = new LanceVectorStore({ uri: dir, search: { exactFilterMaxRows: 0 } });
  const queries = vectors(10, DIM, 999);
  const perGroup: Record<string, number> = {};
  try {
    for (const value of ['g0', 'g1', 'g2', 'g3']) {
      let total = 0;
      for (let q = 0; q < 10; q++) {
        const query = queries.slice(q * DIM, (q + 1) * DIM);
        const filter = { op: 'eq', key: 'group', value } as const;
        const truth = bruteForce([now], DIM, query, 10, (m) => m.group === value);
        expect((await store.query(index, { vector: query, topK: 10, filter, metadata: false })).map((h) => h.key)).toEqual(truth);
        total += recall(await ann.query(index, { vector: query, topK: 10, filter, metadata: false }), truth);
      }
      perGroup[value] = total / 10;
    }
  } finally {
    await ann.close();
  }
  console.log(JSON.stringify({ upserts, versions, indexDirs, fragments: stats.fragments, actions: [...actions], counts, perGroup }));
  // Versions piled up (nothing pruned), the case in question.
  expect(versions).toBeGreaterThan(upserts / 2);
  // Every group, the emptied one included, as complete as brute force (named when one is not).
  expect(Object.entries(perGroup).filter(([, r]) => r <= 0.9)).toEqual([]);
});

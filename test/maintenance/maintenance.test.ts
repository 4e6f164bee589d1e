// Maintenance against a real LanceDB store (small dims and rows, low thresholds).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { vectorIndexOf } from '../../lambdas/adapters/lance/index-stats';
import { DEFAULT_MAINTENANCE_CONFIG, type MaintenanceConfig } from '../../lambdas/maintenance/config';
import { runMaintenanceOnce, startMaintenanceLoop } from '../../lambdas/maintenance/maintenance';
import type { FilterNode } from '../../lambdas/core/filter/ast';
import type { IndexRecord } from '../../lambdas/core/ports';
import { bruteForce, indexRecord, memoryCatalog, putAll, recall, rowVector, rows, vectors, type Rows } from './helpers';

const DIM = 16;
const config: MaintenanceConfig = {
  ...DEFAULT_MAINTENANCE_CONFIG,
  annMinRows: 2000,
  keyIndexMinRows: 2000,
  foldMinRows: 100_000,
  foldMaxAgeSeconds: 3600,
};

let dir: string;
let store: LanceVectorStore;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 's3v-maint-'));
  store = new LanceVectorStore({ uri: dir });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const deps = (...indexes: IndexRecord[]) => ({ catalog: memoryCatalog(indexes) as never, store });
const queries = (n: number, seed: number) => {
  const data = vectors(n, DIM, seed);
  return Array.from({ length: n }, (_, i) => data.slice(i * DIM, (i + 1) * DIM));
};

describe('an index growing past the ANN threshold', () => {
  const index = indexRecord('grow', DIM);
  const all: Rows[] = [];

  test('below the threshold: no index is built and search is exact', async () => {
    all.push(rows('a', 0, 1500, DIM, 1));
    await putAll(store, index, all[0]);
    const report = await runMaintenanceOnce(deps(index), { config, catchUp: true });
    expect(report.indexes[0].actions.map((a) => a.kind)).not.toContain('vector-index');
    expect(vectorIndexOf((await store.tableStats(index))!)).toBeUndefined();
    for (const q of queries(5, 99)) {
      const hits = await store.query(index, { vector: q, topK: 10, metadata: false });
      expect(hits.map((h) => h.key)).toEqual(bruteForce(all, DIM, q, 10));
    }
  });

  test('past it: vector, LABEL_LIST and key indexes; then unindexed rows are searched too', async () => {
    all.push(rows('b', 1500, 1500, DIM, 2));
    await putAll(store, index, all[1]);
    const report = await runMaintenanceOnce(deps(index), { config, catchUp: true });
    expect(report.indexes[0].outcome).toBe('ok');
    expect(report.indexes[0].actions.map((a) => a.kind)).toEqual(expect.arrayContaining(['vector-index', 'tokens-index', 'key-index']));
    let stats = (await store.tableStats(index))!;
    expect(stats.indices.map((i) => i.type).sort()).toEqual(['BTree', 'IvfHnswSq', 'LabelList']);
    expect(vectorIndexOf(stats)).toMatchObject({ indexedRows: 3000, unindexedRows: 0 });
    const state = await store.maintenanceState.read(index.storageId);
    expect(state).toMatchObject({ trainedRows: 3000, lastOutcome: 'ok' });

    // Rows written after the build are not in the ANN index yet.
    all.push(rows('c', 3000, 300, DIM, 3));
    await putAll(store, index, all[2]);
    stats = (await store.tableStats(index))!;
    expect(vectorIndexOf(stats)).toMatchObject({ indexedRows: 3000, unindexedRows: 300 });

    let total = 0;
    const qs = queries(30, 7);
    for (const q of qs) total += recall(await store.query(index, { vector: q, topK: 10, metadata: false }), bruteForce(all, DIM, q, 10));
    expect(total / qs.length).toBeGreaterThanOrEqual(0.98);
    // An indexed and an unindexed row are each their own nearest neighbour, at distance 0.
    for (const [r, i] of [[all[0], 17], [all[2], 42]] as const) {
      const [top] = await store.query(index, { vector: rowVector(r, i, DIM), topK: 1, metadata: false });
      expect(top).toEqual({ key: r.keys[i], distance: 0 });
    }

    // Catching up folds the new rows into the index without retraining.
    const fold = await runMaintenanceOnce(deps(index), { config, catchUp: true });
    expect(fold.indexes[0].actions.map((a) => a.kind)).toEqual(['optimize']);
    expect(vectorIndexOf((await store.tableStats(index))!)).toMatchObject({ indexedRows: 3300, unindexedRows: 0 });
    for (const q of qs.slice(0, 10)) total += recall(await store.query(index, { vector: q, topK: 10, metadata: false }), bruteForce(all, DIM, q, 10));
  });

  test('filtered queries at 1% and 10% return the true top-K among matching rows', async () => {
    const filters: [FilterNode, (m: Record<string, unknown>) => boolean][] = [
      [{ op: 'eq', key: 'n', value: 37 }, (m) => m.n === 37],
      [{ op: 'eq', key: 'group', value: 'g3' }, (m) => m.group === 'g3'],
      [{ op: 'and', children: [{ op: 'eq', key: 'group', value: 'g7' }, { op: 'lt', key: 'n', value: 20 }] }, (m) => m.group === 'g7' && (m.n as number) < 20],
    ];
    // Default planning (few matches → exact), and forced through the ANN prefilter path.
    const annOnly = new LanceVectorStore({ uri: dir, search: { exactFilterMaxRows: 0 } });
    try {
      for (const [filter, keep] of filters) {
        let annRecall = 0;
        const qs = queries(10, 11);
        for (const q of qs) {
          const truth = bruteForce(all, DIM, q, 10, keep);
          const exact = await store.query(index, { vector: q, topK: 10, filter, metadata: false });
          expect(exact.map((h) => h.key)).toEqual(truth);
          annRecall += recall(await annOnly.query(index, { vector: q, topK: 10, filter, metadata: false }), truth);
        }
        expect(annRecall / qs.length).toBeGreaterThanOrEqual(0.98);
      }
    } finally {
      await annOnly.close();
    }
  });

  test('fast mode searches indexed rows only', async () => {
    const fast = new LanceVectorStore({ uri: dir, search: { fastSearch: true } });
    try {
      const late = rows('d', 5000, 50, DIM, 5);
      all.push(late);
      await putAll(store, index, late); // `fast` opens the table after this write
      const probe = rowVector(late, 3, DIM);
      const [fastTop] = await fast.query(index, { vector: probe, topK: 1, metadata: false });
      expect(fastTop.key).not.toBe(late.keys[3]);
      const [fullTop] = await store.query(index, { vector: probe, topK: 1, metadata: false });
      expect(fullTop).toEqual({ key: late.keys[3], distance: 0 });
      await runMaintenanceOnce(deps(index), { config, catchUp: true });
      await fast.close(); // a new handle sees the index maintained through the other one
      const [after] = await fast.query(index, { vector: probe, topK: 1, metadata: false });
      expect(after).toEqual({ key: late.keys[3], distance: 0 });
    } finally {
      await fast.close();
    }
  });
});

test('writes concurrent with maintenance are not lost', async () => {
  const index = indexRecord('busy', DIM);
  const base = rows('k', 0, 3000, DIM, 21);
  await putAll(store, index, base);
  const loop = startMaintenanceLoop(deps(index), { config: { ...config, compactMinFragments: 2 }, intervalMs: 10 });
  const pass = loop.runNow({ catchUp: true });
  // While maintenance builds and compacts: new keys and upserts of existing keys, concurrently.
  const fresh = rows('n', 0, 1000, DIM, 22);
  const upserts = rows('k', 0, 1000, DIM, 23);
  const writes: Promise<void>[] = [];
  for (let s = 0; s < 1000; s += 100) {
    const slice = (r: Rows) => ({ keys: r.keys.slice(s, s + 100), data: r.data.slice(s * DIM, (s + 100) * DIM), metadata: r.metadata.slice(s, s + 100) });
    writes.push(store.put(index, slice(fresh)), store.put(index, slice(upserts)));
    await new Promise((r) => setTimeout(r, 30));
  }
  await Promise.all(writes);
  await pass;
  await loop.runNow({ catchUp: true });
  await loop.stop();
  const stats = (await store.tableStats(index))!;
  expect(stats.rows).toBe(4000);
  expect(vectorIndexOf(stats)).toBeDefined();
  const sample = [0, 99, 500, 999];
  const got = await store.get(index, [...sample.map((i) => upserts.keys[i]), ...sample.map((i) => fresh.keys[i])], { data: true, metadata: false });
  const byKey = new Map(got.map((v) => [v.key, v.data!]));
  for (const i of sample) {
    expect(Array.from(byKey.get(upserts.keys[i])!)).toEqual(Array.from(rowVector(upserts, i, DIM)));
    expect(Array.from(byKey.get(fresh.keys[i])!)).toEqual(Array.from(rowVector(fresh, i, DIM)));
  }
  const [top] = await store.query(index, { vector: rowVector(upserts, 5, DIM), topK: 1, metadata: false });
  expect(top).toEqual({ key: upserts.keys[5], distance: 0 });
});

test('a failed run leaves the index as it was and queryable', async () => {
  const index = indexRecord('fail', DIM);
  const data = rows('f', 0, 2500, DIM, 31);
  await putAll(store, index, data);
  const before = (await store.tableStats(index))!;
  const original = store.createVectorIndex;
  store.createVectorIndex = async () => {
    throw new Error('simulated failure');
  };
  try {
    const report = await runMaintenanceOnce(deps(index), { config, catchUp: true });
    const entry = report.indexes[0];
    expect(entry.actions.find((a) => a.kind === 'vector-index')?.error).toMatch(/simulated/);
    expect(entry.outcome).toBe('partial');
    expect(await store.maintenanceState.read(index.storageId)).toMatchObject({ lastOutcome: 'partial', lastError: 'simulated failure' });
  } finally {
    store.createVectorIndex = original;
  }
  const after = (await store.tableStats(index))!;
  expect(after.rows).toBe(before.rows);
  expect(vectorIndexOf(after)).toBeUndefined();
  const q = rowVector(data, 9, DIM);
  expect((await store.query(index, { vector: q, topK: 1, metadata: false }))[0]).toEqual({ key: data.keys[9], distance: 0 });
  // The next run succeeds.
  const retry = await runMaintenanceOnce(deps(index), { config, catchUp: true });
  expect(retry.indexes[0].outcome).toBe('ok');
  expect(vectorIndexOf((await store.tableStats(index))!)).toMatchObject({ indexedRows: 2500 });
});

test('a deadline defers what does not fit', async () => {
  const index = indexRecord('late', DIM);
  await putAll(store, index, rows('l', 0, 2500, DIM, 41));
  // A build speed so low that the vector index cannot fit in a minute; the cheap actions still run.
  const report = await runMaintenanceOnce(deps(index), { config: { ...config, buildFloatsPerSecond: 100 }, deadline: Date.now() + 60_000 });
  expect(report.complete).toBe(false);
  expect(report.indexes[0].deferred).toEqual(['vector-index', 'tokens-index']);
  expect(report.indexes[0].actions.map((a) => a.kind)).toEqual(['optimize', 'key-index']);
  expect(vectorIndexOf((await store.tableStats(index))!)).toBeUndefined();
});

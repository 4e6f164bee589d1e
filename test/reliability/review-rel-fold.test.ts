// Review (review-rel): maintenance under steady upserts (compaction backing off, 'fold' rebuilding
// the lagging indexes). Nothing written may be lost or come back, queries must stay complete, and
// the disk must stay bounded: each fold writes a full new index, while old versions and the index
// files only they use are pruned by optimize() alone, whose compaction the upserts keep preempting.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { vectorIndexOf } from '../../lambdas/adapters/lance/index-stats';
import { DEFAULT_MAINTENANCE_CONFIG, type MaintenanceConfig } from '../../lambdas/maintenance/config';
import { runMaintenanceOnce } from '../../lambdas/maintenance/maintenance';
import { bruteForce, indexRecord, memoryCatalog, normalPriorityWorkerStore, putAll, recall, rows, vectors, type Rows } from '../maintenance/helpers';

jest.setTimeout(480_000);

const DIM = 16;
const KEYS = 4000;
const UPSERT_SECONDS = 30;
const MAX_UPSERT_SECONDS = 240;
const config: MaintenanceConfig = {
  ...DEFAULT_MAINTENANCE_CONFIG,
  annMinRows: 1000,
  keyIndexMinRows: 1000,
  foldMinRows: 100,
  foldMaxAgeSeconds: 1,
  compactMinFragments: 8,
  hnswEfConstruction: 100,
  // Old versions older than 2 s may go: what a prune keeps is then what the last 2 s wrote.
  keepVersionsSeconds: 2,
  // Writes held at most 10 % of the time (the default, pinned: the bounds below depend on it).
  lockedOptimizeMaxShare: 0.1,
  // The default is 5 s (locked for up to 10 s). On a loaded machine this table's optimize takes
  // about that long (4.9 s measured at normal priority, 11.5 s at idle); longer, it is never locked,
  // every optimize loses to the upserts and nothing is pruned (158 s: optimize!, fold, ...).
  // Allowing 30 s here tests the same mechanism on a slow machine; 0 disables it (and fails).
  lockedOptimizeMaxSeconds: 30,
};

const h = normalPriorityWorkerStore('s3v-rr-fold-');

function du(path: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  let entries;
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch {
    return { files, bytes };
  }
  for (const entry of entries) {
    const p = join(path, entry.name);
    if (entry.isDirectory()) {
      const sub = du(p);
      files += sub.files;
      bytes += sub.bytes;
    } else {
      // Sampled while writes go on: a file renamed (a manifest's temporary) or pruned meanwhile is gone.
      const size = statSync(p, { throwIfNoEntry: false })?.size;
      if (size === undefined) continue;
      files++;
      bytes += size;
    }
  }
  return { files, bytes };
}

function disk(): { indexDirs: number; indexMB: number; versions: number; totalMB: number } {
  const table = readdirSync(h.dir).find((name) => name.endsWith('.lance') && !name.startsWith('_'))!;
  const root = join(h.dir, table);
  const indices = join(root, '_indices');
  const idx = du(indices);
  return {
    indexDirs: readdirSync(indices).length,
    indexMB: +(idx.bytes / 1e6).toFixed(2),
    versions: readdirSync(join(root, '_versions')).filter((name) => name.endsWith('.manifest')).length,
    totalMB: +(du(root).bytes / 1e6).toFixed(2),
  };
}

test('steady upserts: nothing lost or resurrected, queries complete, disk bounded', async () => {
  const index = indexRecord('rrfold', DIM);
  const deps = { catalog: memoryCatalog([index]) as never, store: h.store };
  const base = rows('k', 0, KEYS, DIM, 1);
  await putAll(h.store, index, base, 1000);
  for (let i = 0; i < 2; i++) await runMaintenanceOnce(deps, { config, catchUp: true, worker: h.worker });
  expect(vectorIndexOf((await h.store.tableStats(index))!)!.unindexedRows).toBe(0);
  const settled = disk();

  // The latest value of every key, as the writer acknowledged it.
  const latest = new Map<string, Float32Array>(base.keys.map((k, i) => [k, base.data.slice(i * DIM, (i + 1) * DIM)]));
  const group = new Map<string, string>(base.keys.map((k, i) => [k, base.metadata[i].group as string]));
  let stop = false;
  let upserts = 0;
  const latencies: number[] = [];
  const writer = (async () => {
    let seed = 100;
    while (!stop) {
      // Never a key of g2 (k2, k12, …): minutes of random upserts would rewrite all of them into
      // g1, and the filtered check on g2 would then ask for nothing.
      const key = () => {
        const i = Math.floor(Math.random() * KEYS);
        return `k${i % 10 === 2 ? i + 1 : i}`;
      };
      const keys = [...new Set(Array.from({ length: 30 }, key))];
      const data = vectors(keys.length, DIM, seed++);
      const t0 = performance.now();
      await h.store.put(index, { keys, data, metadata: keys.map(() => ({ group: 'g1' })) });
      latencies.push(performance.now() - t0);
      keys.forEach((k, i) => {
        latest.set(k, data.slice(i * DIM, (i + 1) * DIM));
        group.set(k, 'g1');
      });
      upserts++;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const passes: string[][] = [];
  // Disk after each pass in the last third of the upserts: what it has grown to, whatever the phase.
  const late: ReturnType<typeof disk>[] = [];
  // Disk right after each prune.
  const pruned: (ReturnType<typeof disk> & { at: number })[] = [];
  let prunes = 0;
  let lastVersions = settled.versions;
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  try {
    // UPSERT_SECONDS of upserts, and on (up to MAX_UPSERT_SECONDS) until two prunes were seen: a
    // prune comes at most every ~10 × a locked optimize's duration, which a loaded machine stretches
    // (a 4.5 s locked optimize once left no room for two in 30 s). Without the locked optimize no
    // prune comes however long the upserts last (at most one lucky early win).
    while (elapsed() < UPSERT_SECONDS * 1000 || (prunes < 2 && elapsed() < MAX_UPSERT_SECONDS * 1000)) {
      const report = await runMaintenanceOnce(deps, { config, worker: h.worker });
      const sample = disk();
      passes.push([...report.indexes[0].actions.map((a) => `${a.kind}${a.error ? '!' : ''}${a.lockedMs === undefined ? '' : `@${Math.round(a.lockedMs)}ms`}`), `v${sample.versions}`]);
      // A prune: the versions fell by a third or more since the last pass.
      if (sample.versions <= lastVersions * (2 / 3)) {
        prunes++;
        pruned.push({ ...sample, at: Math.round(elapsed() / 1000) });
      }
      lastVersions = sample.versions;
      if (elapsed() > (UPSERT_SECONDS * 1000 * 2) / 3) late.push(sample);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  } finally {
    stop = true;
    await writer;
  }
  late.push(disk());
  const during = disk();
  const peak = { versions: Math.max(...late.map((d) => d.versions)), totalMB: Math.max(...late.map((d) => d.totalMB)), indexDirs: Math.max(...late.map((d) => d.indexDirs)) };

  // Every key once, with its last acknowledged value.
  const stats = (await h.store.tableStats(index))!;
  expect(stats.rows).toBe(KEYS);
  const keys = [...latest.keys()];
  const stored = await h.store.get(index, keys, { data: true, metadata: false });
  expect(stored.length).toBe(KEYS);
  const wrong = stored.filter((v) => !Buffer.from(new Float32Array(v.data!).buffer).equals(Buffer.from(latest.get(v.key)!.buffer)));
  expect(wrong.map((v) => v.key)).toEqual([]);

  // Queries as complete as an exact search (the ANN index plus the flat scan of rows it misses).
  const now: Rows = { keys, data: new Float32Array(keys.flatMap((k) => [...latest.get(k)!])), metadata: keys.map((k) => ({ group: group.get(k)! })) };
  const queries = vectors(20, DIM, 999);
  let total = 0;
  for (let q = 0; q < 20; q++) {
    const query = queries.slice(q * DIM, (q + 1) * DIM);
    const hits = await h.store.query(index, { vector: query, topK: 10, metadata: false });
    total += recall(hits, bruteForce([now], DIM, query, 10));
  }
  const meanRecall = total / 20;
  // Filtered (through the LABEL_LIST / flat paths): g1 holds every upserted key, g2 its 400 keys,
  // never upserted. (With g2 emptied by the upserts, an old recall() scored the right empty answer
  // 0: "filtered recall 0.5" in long runs; see recall-filtered-versions.test.ts.)
  let filteredTotal = 0;
  const ann = new LanceVectorStore({ uri: h.dir, search: { exactFilterMaxRows: 0 } });
  try {
    for (let q = 0; q < 10; q++) {
      const query = queries.slice(q * DIM, (q + 1) * DIM);
      for (const value of ['g1', 'g2']) {
        const filter = { op: 'eq', key: 'group', value } as const;
        const truth = bruteForce([now], DIM, query, 10, (m) => m.group === value);
        expect((await h.store.query(index, { vector: query, topK: 10, filter, metadata: false })).map((h) => h.key)).toEqual(truth);
        filteredTotal += recall(await ann.query(index, { vector: query, topK: 10, filter, metadata: false }), truth);
      }
    }
  } finally {
    await ann.close();
  }
  const filteredRecall = filteredTotal / 20;

  latencies.sort((a, b) => a - b);
  const pct = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]);
  const writeMs = { p50: pct(0.5), p99: pct(0.99), max: Math.round(latencies[latencies.length - 1]) };
  console.log(JSON.stringify({ seconds: Math.round(elapsed() / 1000), upserts, writeMs, passes, settled, during, peak, prunes, pruned, meanRecall, filteredRecall, fragments: stats.fragments }));
  expect(filteredRecall).toBeGreaterThan(0.9);
  expect(meanRecall).toBeGreaterThan(0.9);
  // Pruning keeps the versions of the last keepVersionsSeconds and the index files they use, plus
  // what was written since the last optimize. Under these upserts only a write-locked optimize
  // commits, and one runs at most every ~10 × its duration (lockedOptimizeMaxShare 0.1): every
  // 3–25 s here depending on the machine's load, while ~15 versions/s are written and each fold
  // pass writes full index copies. Measured with it: 2–6 prunes, peak 130–320 versions, 14–36 MB.
  // Without it nothing is pruned once compaction backs off (at most one lucky early win): 440–530
  // versions, 42–63 MB at 30 s, growing for as long as the upserts last.
  expect(prunes).toBeGreaterThanOrEqual(2);
  // Each prune leaves about what the last keepVersionsSeconds wrote (a few versions a second here).
  // The peak between prunes is no bound here: it grows with the time between them, which the
  // machine's load sets (an optimize 10 × longer, the next one 10 × later); measured quiet:
  // 130–320 versions, 14–36 MB.
  const last = pruned[pruned.length - 1];
  expect(last.versions).toBeLessThanOrEqual(150);
  expect(last.totalMB).toBeLessThanOrEqual(settled.totalMB * 10);
});

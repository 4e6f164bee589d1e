// A compaction that lost its commit to upserts of existing keys lately (and is short) runs holding
// the index's write lock, so it commits and prunes, while writes issued meanwhile wait for it and
// then succeed. (That it is needed at all: review-rel-fold.test.ts, which fails without it.)
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { DEFAULT_MAINTENANCE_CONFIG, type MaintenanceConfig } from '../../lambdas/maintenance/config';
import { lockedRetryAt } from '../../lambdas/maintenance/decide';
import { runMaintenanceOnce, type IndexReport } from '../../lambdas/maintenance/maintenance';
import { indexRecord, memoryCatalog, putAll, rows, vectors } from './helpers';

jest.setTimeout(120_000);

const DIM = 32;
const KEYS = 20_000;
const HOT = 100;
const base: MaintenanceConfig = {
  ...DEFAULT_MAINTENANCE_CONFIG,
  annMinRows: 100_000,
  keyIndexMinRows: 1000,
  compactMinFragments: 4,
  keepVersionsSeconds: 0,
};

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 's3v-fold-lock-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const manifests = (root: string) => readdirSync(join(root, readdirSync(root).find((n) => n.endsWith('.lance') && !n.startsWith('_'))!, '_versions')).filter((n) => n.endsWith('.manifest')).length;

/** Upserts existing keys back to back while one maintenance pass runs; its optimize and the writes' latencies. */
async function underUpserts(config: MaintenanceConfig, optimizeMs = 100): Promise<{ optimize: IndexReport['actions'][number]; versionsBefore: number; versionsAfter: number; slowestWriteMs: number; writes: number; rows: number }> {
  const store = new LanceVectorStore({ uri: dir });
  try {
    const index = indexRecord('lock', DIM);
    await putAll(store, index, rows('k', 0, KEYS, DIM, 1), 2000);
    const deps = { catalog: memoryCatalog([index]) as never, store };
    await runMaintenanceOnce(deps, { config, catchUp: true });
    // As after an optimize that lost to these writes a moment ago, after optimizeMs of work.
    const state = await store.maintenanceState.read(index.storageId);
    await store.maintenanceState.write(index.storageId, { ...state, compactContendedAt: Date.now(), optimizeMs });
    let stop = false;
    let writes = 0;
    let slowest = 0;
    const writer = (async () => {
      for (let seed = 10; !stop; seed++) {
        // A hot set: its rows live in the small fragments compaction rewrites, so nearly every upsert touches one.
        const keys = [...new Set(Array.from({ length: 20 }, () => `k${Math.floor(Math.random() * HOT)}`))];
        const t0 = performance.now();
        await store.put(index, { keys, data: vectors(keys.length, DIM, seed), metadata: keys.map(() => ({})) });
        slowest = Math.max(slowest, performance.now() - t0);
        writes++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    try {
      // Enough small fragments for a compaction, each touched by later upserts.
      while (writes < 40) await new Promise((resolve) => setTimeout(resolve, 20));
      const versionsBefore = manifests(dir);
      const report = await runMaintenanceOnce(deps, { config });
      const optimize = report.indexes[0].actions.find((a) => a.kind === 'optimize')!;
      const versionsAfter = manifests(dir);
      stop = true;
      await writer;
      const rows = (await store.tableStats(index))!.rows;
      return { optimize, versionsBefore, versionsAfter, slowestWriteMs: Math.round(slowest), writes, rows };
    } finally {
      stop = true;
      await writer;
    }
  } finally {
    await store.close();
  }
}

test('a short optimize that loses to upserts commits holding the write lock, and prunes', async () => {
  const result = await underUpserts({ ...base, lockedOptimizeMaxSeconds: 5 });
  console.log(JSON.stringify(result));
  expect(result.optimize.error).toBeUndefined();
  expect(result.optimize.lockedMs).toBeDefined();
  expect(result.versionsAfter).toBeLessThan(result.versionsBefore);
  expect(result.rows).toBe(KEYS);
});

test('the write lock is let go after twice lockedOptimizeMaxSeconds, whatever the optimize is doing', async () => {
  // Held 1 ms at most: the optimize goes on unlocked and then commits (lockedMs far below its
  // duration) or loses to the writes, which only an unlocked optimize can.
  const result = await underUpserts({ ...base, lockedOptimizeMaxSeconds: 0.0005 }, 0);
  console.log(JSON.stringify(result));
  if (result.optimize.error) expect(result.optimize.error).toMatch(/preempted|conflict|concurrent/i);
  else expect(result.optimize.lockedMs!).toBeLessThan(result.optimize.ms / 2);
  expect(result.rows).toBe(KEYS);
});

test('lockedOptimizeMaxSeconds 0: writes are never held, whatever the optimize meets', async () => {
  const result = await underUpserts({ ...base, lockedOptimizeMaxSeconds: 0 });
  console.log(JSON.stringify(result));
  expect(result.optimize.lockedMs).toBeUndefined();
});

test('write-locked optimizes hold writes at most lockedOptimizeMaxShare of the time', () => {
  expect(lockedRetryAt(1000, { ...base, lockedOptimizeMaxShare: 0.1 }, 0)).toBe(9000);
  expect(lockedRetryAt(1000, { ...base, lockedOptimizeMaxShare: 0.5 }, 0)).toBe(1000);
  // Bounded by the longest backoff; a share of 0 or 1 means no wait.
  expect(lockedRetryAt(1_000_000, { ...base, compactBackoffMaxSeconds: 600 }, 0)).toBe(600_000);
  expect(lockedRetryAt(1000, { ...base, lockedOptimizeMaxShare: 0 }, 0)).toBeUndefined();
  expect(lockedRetryAt(1000, { ...base, lockedOptimizeMaxShare: 1 }, 0)).toBeUndefined();
});

// Maintenance on a settled index does nothing: over many idle cycles (the clock moved past every
// age threshold: folding, version pruning, state-table compaction), no commit to the index's
// table and none to the maintenance-state table, and every run reports the index idle.
import * as lancedb from '@lancedb/lancedb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { STATE_TABLE } from '../../lambdas/adapters/lance/maintenance-state';
import { DEFAULT_MAINTENANCE_CONFIG, type MaintenanceConfig } from '../../lambdas/maintenance/config';
import { runMaintenanceOnce } from '../../lambdas/maintenance/maintenance';
import { indexRecord, memoryCatalog, putAll, rows } from './helpers';

const DIM = 16;
const config: MaintenanceConfig = { ...DEFAULT_MAINTENANCE_CONFIG, annMinRows: 1000, keyIndexMinRows: 1000 };

let dir: string;
let store: LanceVectorStore;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 's3v-idle-'));
  store = new LanceVectorStore({ uri: dir });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Versions as another process sees them: a fresh connection, so nothing cached hides a commit. */
async function versions(storageId: string): Promise<{ index: number; state: number }> {
  const db = await lancedb.connect(dir);
  try {
    const [index, state] = await Promise.all([db.openTable(storageId), db.openTable(STATE_TABLE)]);
    const result = { index: await index.version(), state: await state.version() };
    index.close();
    state.close();
    return result;
  } finally {
    db.close();
  }
}

it('makes no commit over idle cycles on a settled index', async () => {
  const index = indexRecord('idle', DIM);
  const deps = { catalog: memoryCatalog([index]) as never, store };
  await putAll(store, index, rows('a', 0, 3000, DIM, 1));
  // Settle: everything built and folded in, with a clock that starts now.
  let now = Date.now();
  const clock = () => now;
  for (let i = 0; i < 4; i++) await runMaintenanceOnce(deps, { config, catchUp: true, now: clock });
  const settled = await runMaintenanceOnce(deps, { config, now: clock });
  expect(settled.indexes[0].outcome).toBe('idle');
  const before = await versions(index.storageId);

  // Idle cycles an interval apart, then past every age threshold (fold age, version pruning).
  const step = config.intervalSeconds * 1000;
  const hours = 3600 * 1000;
  const outcomes: string[] = [];
  for (const advance of [step, step, step, config.foldMaxAgeSeconds * 1000 + 1, config.keepVersionsSeconds * 1000 + 1, hours, step, hours]) {
    now += advance;
    const report = await runMaintenanceOnce(deps, { config, now: clock });
    outcomes.push(report.indexes[0].outcome);
  }
  expect(outcomes.every((o) => o === 'idle')).toBe(true);
  expect(await versions(index.storageId)).toEqual(before);
});

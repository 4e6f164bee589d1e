// The maintenance figures of one index, as `npm run status` computes them (read-only: table
// statistics from the Lance manifest and the maintenance state row; nothing is written).
import type { Deps } from '../core/deps';
import type { IndexRecord } from '../core/ports';
import { vectorIndexOf, type TableStats } from '../adapters/lance/index-stats';
import type { MaintenanceState } from '../adapters/lance/maintenance-state';
import { annMinRows, maintenanceConfigFromEnv } from '../maintenance/config';
import { decide } from '../maintenance/decide';
import { maintainableStore } from '../maintenance/maintenance';

export interface IndexFigures {
  rows: number;
  /** null: no ANN index yet (exact search below annThresholdRows). */
  indexedRows: number | null;
  unindexedRows: number | null;
  fragments: number;
  totalBytes: number;
  indexes: string[];
  annThresholdRows: number;
  lastRun: MaintenanceState | null;
  /** ISO time, "now", or null when only further writes will make something due. */
  nextDue: string | null;
  pending: string[];
}

const EMPTY: TableStats = { rows: 0, fragments: 0, smallFragments: 0, totalBytes: 0, version: 0, indices: [] };

export async function indexFigures(deps: Deps, index: IndexRecord, now = Date.now()): Promise<IndexFigures> {
  const store = maintainableStore(deps);
  const config = maintenanceConfigFromEnv();
  const [stats, state] = await Promise.all([
    store.tableStats(index).then((s) => s ?? EMPTY),
    store.maintenanceState.read(index.storageId),
  ]);
  const vector = vectorIndexOf(stats);
  const decision = decide(stats, index.dimension, state, config, now);
  return {
    rows: stats.rows,
    indexedRows: vector ? vector.indexedRows : null,
    unindexedRows: vector ? vector.unindexedRows : null,
    fragments: stats.fragments,
    totalBytes: stats.totalBytes,
    indexes: stats.indices.map((i) => `${i.type}(${i.columns.join(',')})${i.segments > 1 ? `×${i.segments}` : ''}`),
    annThresholdRows: annMinRows(config, index.dimension),
    lastRun: state ?? null,
    nextDue:
      stats.rows === 0 || decision.nextDueAt === undefined ? null : decision.nextDueAt <= now ? 'now' : new Date(decision.nextDueAt).toISOString(),
    pending: stats.rows === 0 ? [] : decision.actions.map((a) => a.kind),
  };
}

// `npm run status -- [--data-dir ./data] [--json]`: per index, rows, rows in the ANN index, fragments,
// indexes, the last maintenance run and when the next one is due. Works while the server runs: the
// catalog is read through the server's published DynamoDB endpoint (dynalite's LevelDB admits one
// process), the Lance tables are read directly (any number of readers).
import '../lambdas/local/quiet-sdk';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoCatalog } from '../lambdas/adapters/dynamo-catalog';
import { LanceVectorStore } from '../lambdas/adapters/lance/lance-store';
import { vectorIndexOf, type TableStats } from '../lambdas/adapters/lance/index-stats';
import type { MaintenanceState } from '../lambdas/adapters/lance/maintenance-state';
import { checkDataDirUsable, openDataDirCatalog } from '../lambdas/local/open-catalog';
import { storageFromEnv } from '../lambdas/cluster/config';
import { maintenanceConfigFromEnv, annMinRows } from '../lambdas/maintenance/config';
import { decide } from '../lambdas/maintenance/decide';
import { allIndexes } from '../lambdas/maintenance/maintenance';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: process.env.S3V_DATA_DIR ?? './data' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log('Usage: npm run status -- [--data-dir ./data] [--json]');
  process.exit(0);
}

export interface IndexStatus {
  index: string;
  dimension: number;
  rows: number;
  indexedRows: number | null;
  unindexedRows: number | null;
  fragments: number;
  indexes: string[];
  annThresholdRows: number;
  lastRun: MaintenanceState | null;
  /** ISO time, "now", or null when only further writes will make something due. */
  nextDue: string | null;
  pending: string[];
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

function until(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s === 0 ? 'now' : s < 120 ? `in ${s}s` : `in ${Math.round(s / 60)}m`;
}

async function openCatalog(dataDir: string): Promise<{ catalog: DynamoCatalog; close(): Promise<void> }> {
  const opened = await openDataDirCatalog(dataDir);
  return { catalog: new DynamoCatalog(opened.client, opened.table), close: opened.close };
}

async function main(): Promise<void> {
  const dataDir = resolve(values['data-dir']!);
  checkDataDirUsable(dataDir);
  const config = maintenanceConfigFromEnv();
  const { catalog, close } = await openCatalog(dataDir);
  // Checks for other processes' commits on every read: the server writes these tables.
  const store = new LanceVectorStore(storageFromEnv() ?? { uri: join(dataDir, 'vectors'), readConsistencySeconds: 0 }); // S3V_STORAGE_URI: the shared store
  const now = Date.now();
  const out: IndexStatus[] = [];
  try {
    const states = await store.maintenanceState.readAll();
    for await (const index of allIndexes({ catalog })) {
      const stats: TableStats = (await store.tableStats(index)) ?? { rows: 0, fragments: 0, smallFragments: 0, totalBytes: 0, version: 0, indices: [] };
      const state = states.get(index.storageId);
      const vector = vectorIndexOf(stats);
      const decision = decide(stats, index.dimension, state, config, now);
      out.push({
        index: `${index.bucketName}/${index.name}`,
        dimension: index.dimension,
        rows: stats.rows,
        indexedRows: vector ? vector.indexedRows : null,
        unindexedRows: vector ? vector.unindexedRows : null,
        fragments: stats.fragments,
        indexes: stats.indices.map((i) => `${i.type}(${i.columns.join(',')})${i.segments > 1 ? `×${i.segments}` : ''}`),
        annThresholdRows: annMinRows(config, index.dimension),
        lastRun: state ?? null,
        nextDue: stats.rows === 0 ? null : decision.nextDueAt === undefined ? null : decision.nextDueAt <= now ? 'now' : new Date(decision.nextDueAt).toISOString(),
        pending: stats.rows === 0 ? [] : decision.actions.map((a) => a.kind),
      });
    }
  } finally {
    await store.close();
    await close();
  }
  if (values.json) {
    console.log(JSON.stringify(out, null, 2));
    return;
  }
  if (out.length === 0) {
    console.log('No indexes.');
    return;
  }
  const rows = out.map((s) => [
    s.index,
    String(s.rows),
    s.indexedRows === null ? `exact (<${s.annThresholdRows})` : `${s.indexedRows} (+${s.unindexedRows})`,
    String(s.fragments),
    s.indexes.join(' ') || '-',
    s.lastRun?.lastRunAt ? `${ago(now - s.lastRun.lastRunAt)} ${s.lastRun.lastOutcome ?? ''}${s.lastRun.lastActions?.length ? ` [${s.lastRun.lastActions.join(',')}]` : ''}`.trim() : 'never',
    s.nextDue === null ? '-' : s.nextDue === 'now' ? `now: ${s.pending.join(',')}` : until(Date.parse(s.nextDue) - now),
  ]);
  const header = ['INDEX', 'ROWS', 'ANN-INDEXED (+PENDING)', 'FRAGMENTS', 'INDEXES', 'LAST RUN', 'NEXT DUE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const line of [header, ...rows]) console.log(line.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
  for (const s of out) if (s.lastRun?.lastError) console.log(`${s.index}: last error: ${s.lastRun.lastError}`);
}

main().catch((error) => {
  console.error(`status: ${(error as Error).message ?? error}`);
  process.exit(1);
});

// "After maintenance has caught up": how the bench gets an index there. Pluggable, because index
// maintenance (lambdas/maintenance, run by the server's timer) is being written alongside:
//
// - `server`: maintenance runs inside the server. The bench only waits, as a user would, watching
//   the index's Lance table on disk (a fresh read-only handle per poll) until a vector index
//   exists and covers every row; `npm run status` output is logged along the way when it exists.
// - `bench` (fallback while lambdas/maintenance does not exist): stop the server, compact and
//   build the indexes issue 7 measured best (HNSW_SQ on the vector, LABEL_LIST on the metadata
//   tokens) with raw LanceDB in this process, restart the server on the same data directory.
// - `none`: skip the after-maintenance phase.
//
// TODO(maintenance): once lambdas/maintenance exports a run-to-completion function, an `offline`
// driver can call it here (server stopped) instead of the bench's own index build.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import type { Metric } from './datasets';
import { REPO_ROOT, ServerProcess } from './server';

export interface MaintenanceContext {
  dataDir: string;
  storageId: string;
  bucket: string;
  index: string;
  metric: Metric;
  rows: number;
  server: ServerProcess;
  log(line: string): void;
  /** Seconds to wait for the server's own maintenance before giving up. */
  timeoutSeconds: number;
}

export interface MaintenanceOutcome {
  driver: string;
  /** Wall time until the index was fully indexed (server) or the build's total (bench). */
  seconds: number;
  steps: { name: string; seconds: number }[];
  indices: { name: string; indexType: string; columns: string[]; indexedRows?: number; unindexedRows?: number }[];
  /** The server to query afterwards (a restarted one for the bench driver). */
  server: ServerProcess;
  note: string;
}

export interface MaintenanceDriver {
  name: string;
  catchUp(ctx: MaintenanceContext): Promise<MaintenanceOutcome>;
}

export function serverMaintenanceAvailable(): boolean {
  return existsSync(join(REPO_ROOT, 'lambdas', 'maintenance'));
}

async function describeIndices(table: lancedb.Table): Promise<MaintenanceOutcome['indices']> {
  const out: MaintenanceOutcome['indices'] = [];
  for (const index of await table.listIndices()) {
    const stats = await table.indexStats(index.name).catch(() => undefined);
    out.push({ name: index.name, indexType: index.indexType, columns: index.columns, indexedRows: stats?.numIndexedRows, unindexedRows: stats?.numUnindexedRows });
  }
  return out;
}

async function openTable(ctx: MaintenanceContext): Promise<{ db: lancedb.Connection; table: lancedb.Table }> {
  const db = await lancedb.connect(join(ctx.dataDir, 'vectors'));
  return { db, table: await db.openTable(ctx.storageId) };
}

const VECTOR_INDEX_TYPES = /IVF|HNSW|PQ|SQ/i;

export interface IndexStatusJson {
  index: string;
  rows: number;
  indexedRows: number | null;
  unindexedRows: number | null;
  fragments: number;
  indexes: string[];
  annThresholdRows: number;
  pending: string[];
  lastRun: unknown;
}

/** `npm run status -- --json` for this data directory (undefined when it cannot run). */
export function status(ctx: Pick<MaintenanceContext, 'dataDir' | 'bucket' | 'index' | 'log'> & { env?: Record<string, string> }): IndexStatusJson | undefined {
  try {
    const out = execFileSync(process.execPath, ['--no-warnings', '--import', 'tsx', 'bin/status.ts', '--data-dir', ctx.dataDir, '--json'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A shared backend's S3V_* variables, so status reads that catalog and store.
      env: { ...process.env, ...ctx.env },
    });
    return (JSON.parse(out) as IndexStatusJson[]).find((s) => s.index === `${ctx.bucket}/${ctx.index}`);
  } catch (error) {
    ctx.log(`npm run status failed: ${String((error as Error).message).split('\n')[0]}`);
    return undefined;
  }
}

/**
 * The same, without blocking this process: for a backend served from this process (the bench's
 * s3rver and dynalite), which a synchronous child would wait on forever.
 */
export function statusAsync(ctx: Pick<MaintenanceContext, 'dataDir' | 'bucket' | 'index' | 'log'> & { env?: Record<string, string> }): Promise<IndexStatusJson | undefined> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--no-warnings', '--import', 'tsx', 'bin/status.ts', '--data-dir', ctx.dataDir, '--json'],
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...ctx.env } },
      (error, stdout) => {
        if (error) {
          ctx.log(`npm run status failed: ${String(error.message).split('\n')[0]}`);
          return resolve(undefined);
        }
        try {
          resolve((JSON.parse(stdout) as IndexStatusJson[]).find((s) => s.index === `${ctx.bucket}/${ctx.index}`));
        } catch (e) {
          ctx.log(`npm run status printed no JSON: ${String(e)}`);
          resolve(undefined);
        }
      },
    );
  });
}

/**
 * Waits for the server's own maintenance (its timer) to catch up, as a user would: polls
 * `npm run status -- --json` until every row is in the ANN index (or the index is below the ANN
 * threshold) and nothing is pending. Without bin/status.ts, watches the Lance table instead.
 */
export const serverDriver: MaintenanceDriver = {
  name: 'server',
  async catchUp(ctx) {
    const started = performance.now();
    const statusCli = existsSync(join(REPO_ROOT, 'bin', 'status.ts'));
    let lastLine = '';
    for (;;) {
      const waited = (performance.now() - started) / 1000;
      let done = false;
      if (statusCli) {
        const s = status(ctx);
        if (s) {
          const line = `rows ${s.rows}, ANN-indexed ${s.indexedRows ?? `exact (<${s.annThresholdRows})`}${s.unindexedRows ? ` (+${s.unindexedRows})` : ''}, fragments ${s.fragments}, indexes ${s.indexes.join(' ') || '-'}, pending ${s.pending.join(',') || '-'}`;
          if (line !== lastLine) ctx.log(`status after ${waited.toFixed(0)} s: ${line}`);
          lastLine = line;
          const annDone = s.indexedRows === null ? s.rows < s.annThresholdRows : s.unindexedRows === 0;
          done = s.rows >= ctx.rows && annDone && s.pending.length === 0;
        }
      } else {
        const { db, table } = await openTable(ctx);
        try {
          const vector = (await describeIndices(table)).find((i) => i.columns.includes('vector') && VECTOR_INDEX_TYPES.test(i.indexType));
          done = vector !== undefined && vector.unindexedRows === 0 && (vector.indexedRows ?? 0) >= ctx.rows;
        } finally {
          table.close();
          db.close();
        }
      }
      if (done) {
        const seconds = (performance.now() - started) / 1000;
        const { db, table } = await openTable(ctx);
        try {
          return {
            driver: 'server',
            seconds,
            steps: [{ name: 'wait for the server\'s maintenance', seconds }, ...maintenanceActions(ctx.server.logFile)],
            indices: await describeIndices(table),
            server: ctx.server,
            note: 'built by the server\'s maintenance timer (lambdas/maintenance)',
          };
        } finally {
          table.close();
          db.close();
        }
      }
      if (waited > ctx.timeoutSeconds) throw new Error(`server maintenance did not catch up on ${ctx.rows} rows within ${ctx.timeoutSeconds} s`);
      await new Promise((r) => setTimeout(r, 3000));
    }
  },
};

/** Maintenance actions and their durations from the server's structured log lines. */
export function maintenanceActions(logFile: string, sinceMs = 0): { name: string; seconds: number }[] {
  const out: { name: string; seconds: number }[] = [];
  for (const line of maintenanceLog(logFile, sinceMs)) {
    const actions = (line.actions ?? []) as { kind?: string; ms?: number }[];
    if (Array.isArray(actions)) for (const a of actions) if (a.kind && typeof a.ms === 'number') out.push({ name: `  ${a.kind}`, seconds: a.ms / 1000 });
    if (typeof line.action === 'string' && typeof line.ms === 'number') out.push({ name: `  ${line.action}`, seconds: line.ms / 1000 });
  }
  return out;
}

/** The server's JSON log lines whose event starts with "maintenance.", from `sinceMs` on. */
export function maintenanceLog(logFile: string, sinceMs = 0): Record<string, unknown>[] {
  if (!existsSync(logFile)) return [];
  const out: Record<string, unknown>[] = [];
  for (const text of readFileSync(logFile, 'utf8').split('\n')) {
    if (!text.startsWith('{') || !text.includes('"maintenance.')) continue;
    try {
      const line = JSON.parse(text) as Record<string, unknown>;
      if (String(line.event ?? '').startsWith('maintenance.') && Number(line.time ?? 0) >= sinceMs) out.push(line);
    } catch {
      /* not JSON */
    }
  }
  return out;
}

/** Builds the indexes itself with raw LanceDB while the server is stopped, then restarts it. */
export const benchDriver: MaintenanceDriver = {
  name: 'bench',
  async catchUp(ctx) {
    await ctx.server.stop();
    const steps: MaintenanceOutcome['steps'] = [];
    const step = async (name: string, run: () => Promise<unknown>) => {
      const t0 = performance.now();
      await run();
      steps.push({ name, seconds: (performance.now() - t0) / 1000 });
      ctx.log(`${name}: ${steps[steps.length - 1].seconds.toFixed(1)} s`);
    };
    const { db, table } = await openTable(ctx);
    let indices: MaintenanceOutcome['indices'];
    try {
      await step('compact (optimize)', () => table.optimize());
      await step('vector index HNSW_SQ', () =>
        table.createIndex('vector', {
          config: lancedb.Index.hnswSq({ distanceType: ctx.metric === 'euclidean' ? 'l2' : 'cosine', numPartitions: ctx.rows > 2_000_000 ? Math.ceil(ctx.rows / 1_000_000) : 1 }),
          replace: true,
        }),
      );
      await step('scalar index LABEL_LIST on meta_tokens', () => table.createIndex('meta_tokens', { config: lancedb.Index.labelList(), replace: true }));
      indices = await describeIndices(table);
    } finally {
      table.close();
      db.close();
    }
    const server = await ServerProcess.start(ctx.server.options);
    return {
      driver: 'bench',
      seconds: steps.reduce((a, s) => a + s.seconds, 0),
      steps,
      indices,
      server,
      note: 'lambdas/maintenance absent: indexes built by bench/maintenance.ts with raw LanceDB (server stopped, then restarted)',
    };
  },
};

export function chooseDriver(option: string): MaintenanceDriver | undefined {
  switch (option) {
    case 'none':
      return undefined;
    case 'server':
      return serverDriver;
    case 'bench':
      return benchDriver;
    case 'auto':
      return serverMaintenanceAvailable() ? serverDriver : benchDriver;
    default:
      throw new Error(`--maintenance must be auto, server, bench or none (got ${option})`);
  }
}

// `npm run bench`: the benchmark of issue 7. Starts the real server as a child process, drives it
// through @aws-sdk/client-s3vectors over HTTP, runs the same queries in process against raw
// LanceDB, scores recall against exact brute force, and writes a table plus a JSON file.
// Flags: ./options; flows: ./user-run (default), ./classic-flow, ./small; tables: ./targets.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { benchDataset, type DatasetResult } from './classic-flow';
import { fashionMnist, synthetic, type Dataset } from './datasets';
import { benchContext, log } from './options';
import { table } from './report';
import { benchSmall, smallTable, type SmallResult } from './small';
import { mib } from './stats';
import { datasetTables, targets, userTargets, type TargetCheck } from './targets';
import { userFlowTable, type UserFlowResult } from './user-flow';
import { storageTable, type StorageRunResult } from './s3-flow';
import { benchStorage, benchUserFlow } from './user-run';
import { runLargeBody, type LargeBodyFigures } from './large-body';

const ctx = benchContext();
const { args, quick } = ctx;

async function main(): Promise<void> {
  const started = Date.now();
  log(`open-s3vectors bench${quick ? ' (quick)' : ''}: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${mib(totalmem())} MiB RAM, node ${process.version}; work dir ${ctx.runDir}`);
  const results: { small?: SmallResult; datasets: DatasetResult[]; userFlow: UserFlowResult[]; storage?: StorageRunResult[][]; largeBody?: LargeBodyFigures[] } = { datasets: [], userFlow: [] };
  const printed: string[] = [];
  const checks: TargetCheck[] = [];
  const out = resolve(args.out ?? join(ctx.resultsDir, `${args.dataset}${quick ? '-quick' : ''}-${ctx.stamp}.json`));
  const save = () => {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(
      out,
      JSON.stringify(
        {
          startedAt: new Date(started).toISOString(),
          seconds: Math.round((Date.now() - started) / 1000),
          machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryMiB: mib(totalmem()), node: process.version },
          options: { ...args, queries: ctx.queries, beforeQueries: ctx.beforeQueries, concurrency: ctx.concurrency, maintenance: ctx.maintenanceDriver?.name ?? 'none' },
          ...results,
          targets: checks,
        },
        null,
        2,
      ) + '\n',
    );
  };
  try {
    if (!args['no-small'] && args.flow === 'classic' && args.storage === 'local') {
      results.small = await benchSmall(ctx);
      printed.push(smallTable(results.small));
      save();
    }
    if (args['large-body']) {
      results.largeBody = await runLargeBody({ log });
      printed.push(largeBodyTable(results.largeBody));
      save();
    }
    const sets: (() => Dataset)[] = [];
    if (args.dataset === 'fashion-mnist' || args.dataset === 'all') {
      sets.push(() => fashionMnist(ctx.rows ?? (quick ? 5_000 : 60_000), ctx.queries, log));
    }
    if (args.dataset === 'synthetic' || args.dataset === 'all') {
      const count = ctx.rows ?? (quick ? 5_000 : args.size === '1m' ? 1_000_000 : 100_000);
      sets.push(() => synthetic(count, 768, ctx.queries, 'cosine'));
    }
    for (const make of sets) {
      const t0 = performance.now();
      const ds = make();
      log(`generated/loaded ${ds.name} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      if (args.storage === 's3') {
        const runs = await benchStorage(ctx, ds);
        (results.storage ??= []).push(runs);
        printed.push(storageTable(runs));
      } else if (args.flow === 'user') {
        const u = await benchUserFlow(ctx, ds);
        results.userFlow.push(u);
        checks.push(...userTargets(u));
        printed.push(userFlowTable(u));
      } else {
        const r = await benchDataset(ctx, ds);
        results.datasets.push(r);
        checks.push(...targets(r));
        printed.push(datasetTables(r));
      }
      save();
    }
  } finally {
    save();
    if (!args.keep) rmSync(ctx.runDir, { recursive: true, force: true });
  }
  console.log('\n' + printed.join('\n'));
  if (checks.length) {
    console.log(`\n${args.flow === 'user' ? 'Issue 16' : 'Issue 7'} targets (this machine)`);
    console.log(table(['dataset', 'target', 'measured', 'met'], checks.map((c) => [c.dataset, c.target, c.value, c.met === undefined ? '-' : c.met ? 'yes' : 'NO'])));
  }
  console.log(`\nJSON: ${out}\nTotal ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

function largeBodyTable(rows: LargeBodyFigures[]): string {
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  return `Other clients while ${rows[0]?.bodyMB ?? '?'} MB PutVectors are parsed (GetIndex / 1-vector QueryVectors)\n` +
    table(
      ['body parsing', 'small p50', 'small p99', 'small max', 'large PutVectors p50'],
      rows.map((r) => [r.mode === 'worker' ? 'worker threads (default)' : 'inline (S3V_BODY_WORKERS=0)', ms(r.small.p50), ms(r.small.p99), ms(r.small.max), ms(r.bigPut.p50)]),
    );
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error instanceof Error ? error.stack : error);
    process.exit(1);
  },
);

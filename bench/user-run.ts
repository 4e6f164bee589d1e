// `--flow user`: the ground truth and query kinds for one dataset, then the user flow (./user-flow);
// `--storage s3`: the same kinds through ./s3-flow, on local disk and on S3 with 1…N processes.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from './datasets';
import { groundTruth, rowNorms, type GroundTruth } from './groundtruth';
import { log, type BenchContext } from './options';
import { storageRun, type StorageRunResult } from './s3-flow';
import { userFlow, type UserFlowResult, type UserKind } from './user-flow';

/** Exact ground truth (cached) and the query kinds: topK 10, topK 100, each filter. */
async function queryKinds(ctx: BenchContext, ds: Dataset, norms: Float64Array): Promise<UserKind[]> {
  const truths = new Map<string, GroundTruth>();
  for (const variant of [undefined, ...ds.filters]) {
    const { truth, cached, seconds } = await groundTruth(ds, norms, variant?.name ?? 'all', variant?.spec, {
      k: variant ? 10 : 100,
      queryCount: ctx.queries,
      cacheDir: ctx.cacheDir,
    });
    truths.set(variant?.name ?? 'all', truth);
    log(`ground truth ${variant ? `filter ${variant.name}` : 'unfiltered'}: ${cached ? 'cached' : `${seconds.toFixed(1)} s`}`);
  }
  return [
    { kind: 'topK 10', topK: 10, truth: truths.get('all')! },
    { kind: 'topK 100', topK: 100, truth: truths.get('all')! },
    ...ds.filters.map((f) => ({ kind: `topK 10, filter ${f.name}`, topK: 10, filter: f, truth: truths.get(f.name)! })),
  ];
}

export async function benchUserFlow(ctx: BenchContext, ds: Dataset): Promise<UserFlowResult> {
  log(`== ${ds.name}: ${ds.description} (user flow)`);
  const norms = rowNorms(ds);
  const kinds = await queryKinds(ctx, ds, norms);
  try {
    return await userFlow(ds, kinds, {
      runDir: ctx.runDir,
      queries: ctx.queries,
      warmup: ctx.warmup,
      concurrency: ctx.concurrency,
      batch: ctx.batch,
      settleTimeoutSeconds: ctx.quick ? 300 : 1800,
      // Quick sets are below the default ANN threshold: lower it so the flow still builds and folds an index.
      env: ctx.quick ? { S3V_MAINT_ANN_MIN_FLOATS: '1000000' } : {},
      log,
      norms,
      oneShot: !ctx.args['no-one-shot'],
    });
  } finally {
    if (!ctx.args.keep) rmSync(join(ctx.runDir, `${ds.id}-user`), { recursive: true, force: true });
  }
}

/** Local disk with one process, then S3 with each --processes count: one row set per run. */
export async function benchStorage(ctx: BenchContext, ds: Dataset): Promise<StorageRunResult[]> {
  log(`== ${ds.name}: ${ds.description} (storage: local disk, then s3rver + dynalite through ${ctx.processes.join(', ')} process(es))`);
  const norms = rowNorms(ds);
  const kinds = await queryKinds(ctx, ds, norms);
  const runs: StorageRunResult[] = [await storageRun(ctx, ds, kinds, norms, 'local', 1)];
  for (const n of ctx.processes) runs.push(await storageRun(ctx, ds, kinds, norms, 's3', n));
  return runs;
}

// `npm run bench` flags, their defaults and the shared bits every flow uses (log line, progress bar).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as cliProgress from 'cli-progress';
import { chooseDriver, type MaintenanceDriver } from './maintenance';
import { REPO_ROOT } from './server';

export const HELP = `Usage: npm run bench -- [options]
  --flow user|classic                     user (default): one default server, ingest with maintenance on, wait
                                          until settled, query; classic: the issue-7 phases (see bench/README.md)
  --dataset fashion-mnist|synthetic|all|none  which data (default all; none: only --large-body)
  --size 100k|1m                          synthetic set size (default 100k)
  --queries N                             timed queries per kind after maintenance (default 1000)
  --before-queries N                      timed queries per kind before maintenance (default min(N, 200))
  --concurrency N                         concurrent PutVectors callers (default 4)
  --maintenance auto|server|bench|none    how the index catches up (default auto; see bench/README.md)
  --no-small                              skip the issue-2/6 figures (PutVectors 500×1024, 10k query, auth)
  --no-one-shot                           user flow: skip the raw LanceDB one-shot HNSW_SQ reference (a second
                                          full build: ~10 min at 1M on 2 cores)
  --quick                                 small sizes for a smoke run (about a minute)
  --storage local|s3                      s3: the user flow on s3rver + dynalite through --processes servers, with
                                          local disk (1 process) as the baseline; one table (issue 14)
  --processes N[,N…]                      server processes for --storage s3 (default 1; e.g. 1,3)
  --rows N                                rows of the dataset (default: the whole set, or --quick/--size)
  --large-body                            also: other clients' latency while 13 MB PutVectors are parsed, with
                                          the body workers and inline (bench/large-body.ts; issue 10)
  --keep                                  keep the servers' data directories
  --out FILE                              JSON results (default bench/results/<dataset>-<time>.json)`;

export interface BenchArgs {
  flow: string;
  dataset: string;
  size: string;
  queries?: string;
  'before-queries'?: string;
  concurrency: string;
  maintenance: string;
  'no-small': boolean;
  'no-one-shot': boolean;
  quick: boolean;
  keep: boolean;
  'large-body': boolean;
  out?: string;
  storage: string;
  processes: string;
  rows?: string;
  help: boolean;
}

/** What every flow reads: the parsed flags plus the values derived from them. */
export interface BenchContext {
  args: BenchArgs;
  quick: boolean;
  queries: number;
  beforeQueries: number;
  concurrency: number;
  warmup: number;
  batch: number;
  resultsDir: string;
  cacheDir: string;
  /** This run's scratch folder (servers' data and logs), removed at the end unless --keep. */
  runDir: string;
  stamp: string;
  /** --storage s3: the process counts to run, in order. */
  processes: number[];
  /** --rows (--storage s3), undefined for the whole set. */
  rows?: number;
  maintenanceDriver: MaintenanceDriver | undefined;
}

const positive = (name: string, raw: string | undefined, fallback: number): number => {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
};

/** Parses the command line; prints the usage and exits on --help. Throws on a bad flag. */
export function benchContext(argv: string[] = process.argv.slice(2)): BenchContext {
  const { values } = parseArgs({
    args: argv,
    options: {
      flow: { type: 'string', default: 'user' },
      dataset: { type: 'string', default: 'all' },
      size: { type: 'string', default: '100k' },
      queries: { type: 'string' },
      'before-queries': { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      maintenance: { type: 'string', default: 'auto' },
      'no-small': { type: 'boolean', default: false },
      'no-one-shot': { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'large-body': { type: 'boolean', default: false },
      out: { type: 'string' },
      storage: { type: 'string', default: 'local' },
      processes: { type: 'string', default: '1' },
      rows: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const args = values as BenchArgs;
  if (args.help) {
    console.log(HELP);
    process.exit(0);
  }
  const quick = args.quick;
  const queries = positive('queries', args.queries, quick ? 100 : 1000);
  const beforeQueries = positive('before-queries', args['before-queries'], Math.min(queries, quick ? 50 : 200));
  const concurrency = positive('concurrency', args.concurrency, 4);
  const resultsDir = join(REPO_ROOT, 'bench', 'results');
  const runDir = mkdtempSync(join(tmpdir(), 's3v-bench-'));
  if (!['fashion-mnist', 'synthetic', 'all', 'none'].includes(args.dataset)) throw new Error('--dataset must be fashion-mnist, synthetic, all or none');
  if (!['100k', '1m'].includes(args.size)) throw new Error('--size must be 100k or 1m');
  if (!['user', 'classic'].includes(args.flow)) throw new Error('--flow must be user or classic');
  if (!['local', 's3'].includes(args.storage)) throw new Error('--storage must be local or s3');
  const processes = args.processes.split(',').map((p) => positive('processes', p.trim(), 1));
  return {
    args,
    quick,
    queries,
    beforeQueries,
    concurrency,
    warmup: quick ? 5 : 20,
    batch: 500,
    resultsDir,
    cacheDir: join(resultsDir, '.cache'),
    runDir,
    stamp: new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19),
    processes,
    rows: args.rows === undefined ? undefined : positive('rows', args.rows, 0),
    maintenanceDriver: chooseDriver(args.maintenance),
  };
}

export function log(line: string): void {
  const t = new Date().toISOString().slice(11, 19);
  console.log(`[${t}] ${line}`);
}

export function bar(label: string, total: number): cliProgress.SingleBar {
  const b = new cliProgress.SingleBar(
    { format: `  ${label.padEnd(34)} [{bar}] {percentage}% | {value}/{total} | eta {eta_formatted}`, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  b.start(total, 0);
  return b;
}

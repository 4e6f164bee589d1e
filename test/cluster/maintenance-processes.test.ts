// Two server processes with maintenance on, two indexes due for their ANN builds: the builds (and
// every other maintenance action) of one index never run on both processes at once, while the two
// indexes are maintained by the two processes at the same time (a lease per index, not one for the
// whole catalog). The actions' start and end come from each process's own log.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateIndexCommand, CreateVectorBucketCommand, PutVectorsCommand, QueryVectorsCommand } from '@aws-sdk/client-s3vectors';
import { clientFor } from '../helpers/service';
import { ROOT_KEYS, runScript, spawnServer, startBackend, type Backend, type ServerProcess } from './helpers';

jest.setTimeout(480_000);

let backend: Backend;
const servers: ServerProcess[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  backend = await startBackend();
  const setup = await runScript('setup-storage.ts', [], backend.env);
  if (setup.code !== 0) throw new Error(setup.stderr);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await backend?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Span {
  process: number;
  storageId: string;
  action: string;
  start: number;
  end: number;
}

/** Maintenance actions from a process's pino lines: start at action-start, end at done/failed. */
function spans(output: string, process: number): Span[] {
  const out: Span[] = [];
  const open = new Map<string, number>();
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { event?: string; action?: string; storageId?: string; time: number };
    const key = `${entry.storageId} ${entry.action}`;
    if (entry.event === 'maintenance.action-start') open.set(key, entry.time);
    if ((entry.event === 'maintenance.action' || entry.event === 'maintenance.failed') && open.has(key)) {
      out.push({ process, storageId: entry.storageId!, action: entry.action!, start: open.get(key)!, end: entry.time });
      open.delete(key);
    }
  }
  for (const [key, start] of open) out.push({ process, storageId: key.split(' ')[0], action: key.split(' ')[1], start, end: Infinity });
  return out;
}

const DIM = 64;
const ROWS = 2000;
/** A deterministic pseudo-random vector per row (distinct rows, no near-duplicates). */
const vector = (i: number) => Array.from({ length: DIM }, (_, d) => {
  const x = Math.sin(i * 12.9898 + d * 78.233) * 43758.5453;
  return x - Math.floor(x) - 0.5;
});

test('two processes maintain two indexes at the same time, never one index on both at once', async () => {
  const env = {
    ...backend.env,
    S3V_LOG_LEVEL: 'info',
    S3V_MAINT_INTERVAL_SECONDS: '1',
    S3V_MAINT_ANN_MIN_ROWS: '300',
    S3V_MAINT_KEY_INDEX_MIN_ROWS: '300',
    S3V_MAINT_WORKER: 'off',
  };
  // A writer with maintenance off fills both indexes, so both are due at once when the two start.
  const writerDir = dirs[dirs.push(mkdtempSync(join(tmpdir(), 's3v-cluster-maint-w-'))) - 1];
  const writer = await spawnServer({ ...env, S3V_MAINT: 'off' }, writerDir);
  const client = clientFor(writer.url, ROOT_KEYS);
  try {
    await client.send(new CreateVectorBucketCommand({ vectorBucketName: 'bkt' }));
    for (const indexName of ['idx', 'idx2']) {
      await client.send(new CreateIndexCommand({ vectorBucketName: 'bkt', indexName, dataType: 'float32', dimension: DIM, distanceMetric: 'cosine' }));
      for (let first = 0; first < ROWS; first += 500) {
        const vectors = Array.from({ length: 500 }, (_, n) => ({ key: `v${first + n}`, data: { float32: vector(first + n) } }));
        await client.send(new PutVectorsCommand({ vectorBucketName: 'bkt', indexName, vectors }));
      }
    }
  } finally {
    client.destroy();
  }
  await writer.stop();
  servers.push(...(await Promise.all([0, 1].map((i) => spawnServer(env, dirs[dirs.push(mkdtempSync(join(tmpdir(), `s3v-cluster-maint-p${i}-`))) - 1])))));
  // Until both indexes have their ANN index, then a little longer (the other's passes).
  const deadline = Date.now() + 300_000;
  const builtIndexes = () => new Set(servers.flatMap((s, i) => spans(s.output(), i)).filter((s) => s.action === 'vector-index' && s.end !== Infinity).map((s) => s.storageId));
  while (builtIndexes().size < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
  expect(builtIndexes().size).toBe(2);
  await new Promise((r) => setTimeout(r, 4000));
  for (const [p, indexName] of [[1, 'idx'], [0, 'idx2']] as const) {
    const reader = clientFor(servers[p].url, ROOT_KEYS);
    const q = await reader.send(new QueryVectorsCommand({ vectorBucketName: 'bkt', indexName, queryVector: { float32: vector(5) }, topK: 1 }));
    reader.destroy();
    expect(q.vectors?.[0]?.key).toBe('v5');
  }
  // `npm run status` with the same variables reads the shared catalog and store.
  const status = await runScript('status.ts', ['--json', '--data-dir', backend.dir], backend.env);
  expect(status.code).toBe(0);
  expect(JSON.parse(status.stdout)).toEqual([expect.objectContaining({ index: 'bkt/idx', rows: ROWS }), expect.objectContaining({ index: 'bkt/idx2', rows: ROWS })]);
  const all = servers.flatMap((s, i) => spans(s.output(), i));
  const across = (same: boolean) =>
    all.flatMap((a) => all.filter((b) => b.process > a.process && (a.storageId === b.storageId) === same && a.start < b.end && b.start < a.end).map((b) => `${a.storageId} ${a.action}@p${a.process} overlaps ${b.storageId} ${b.action}@p${b.process}`));
  // One index: never on both processes at once.
  expect(across(true)).toEqual([]);
  // Two indexes: on the two processes at the same time (a lease for the whole catalog forbids it).
  expect(across(false).length).toBeGreaterThan(0);
  // Their maintenance state (one shared table) was recorded by both, side by side, without failing.
  expect(servers.flatMap((s) => s.output().split('\n').filter((l) => l.includes('"maintenance.state-failed"')))).toEqual([]);
});

// Two server processes with maintenance on, one index due for its ANN build: the builds (and every
// other maintenance action) of that index never run on both processes at once. The actions' start
// and end come from each process's own log.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateIndexCommand, CreateVectorBucketCommand, PutVectorsCommand, QueryVectorsCommand } from '@aws-sdk/client-s3vectors';
import { clientFor } from '../helpers/service';
import { ROOT_KEYS, runScript, spawnServer, startBackend, type Backend, type ServerProcess } from './helpers';

jest.setTimeout(240_000);

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
    const entry = JSON.parse(line) as { event?: string; action?: string; time: number };
    if (entry.event === 'maintenance.action-start') open.set(entry.action!, entry.time);
    if ((entry.event === 'maintenance.action' || entry.event === 'maintenance.failed') && open.has(entry.action!)) {
      out.push({ process, action: entry.action!, start: open.get(entry.action!)!, end: entry.time });
      open.delete(entry.action!);
    }
  }
  for (const [action, start] of open) out.push({ process, action, start, end: Infinity });
  return out;
}

test('two processes maintaining one index never build it at the same time', async () => {
  const env = {
    ...backend.env,
    S3V_LOG_LEVEL: 'info',
    S3V_MAINT_INTERVAL_SECONDS: '1',
    S3V_MAINT_ANN_MIN_ROWS: '300',
    S3V_MAINT_KEY_INDEX_MIN_ROWS: '300',
    S3V_MAINT_WORKER: 'off',
  };
  servers.push(...(await Promise.all([0, 1].map((i) => spawnServer(env, dirs[dirs.push(mkdtempSync(join(tmpdir(), `s3v-cluster-maint-p${i}-`))) - 1])))));
  const client = clientFor(servers[0].url, ROOT_KEYS);
  try {
    await client.send(new CreateVectorBucketCommand({ vectorBucketName: 'bkt' }));
    await client.send(new CreateIndexCommand({ vectorBucketName: 'bkt', indexName: 'idx', dataType: 'float32', dimension: 16, distanceMetric: 'cosine' }));
    for (let batch = 0; batch < 4; batch++) {
      const vectors = Array.from({ length: 100 }, (_, n) => ({ key: `v${batch * 100 + n}`, data: { float32: Array.from({ length: 16 }, (_, d) => Math.sin(batch * 100 + n + d * 7) + 0.01) } }));
      await client.send(new PutVectorsCommand({ vectorBucketName: 'bkt', indexName: 'idx', vectors }));
    }
    // Until one of them has built the ANN index, then a little longer (the other's passes).
    const deadline = Date.now() + 150_000;
    const built = () => servers.some((s) => /"action":"vector-index"[^\n]*"vector-index done"/.test(s.output()));
    while (!built() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    expect(built()).toBe(true);
    await new Promise((r) => setTimeout(r, 4000));
    const q = await clientFor(servers[1].url, ROOT_KEYS).send(new QueryVectorsCommand({ vectorBucketName: 'bkt', indexName: 'idx', queryVector: { float32: Array.from({ length: 16 }, (_, d) => Math.sin(5 + d * 7) + 0.01) }, topK: 1 }));
    expect(q.vectors?.[0]?.key).toBe('v5');
  } finally {
    client.destroy();
  }
  // `npm run status` with the same variables reads the shared catalog and store.
  const status = await runScript('status.ts', ['--json', '--data-dir', backend.dir], backend.env);
  expect(status.code).toBe(0);
  expect(JSON.parse(status.stdout)).toEqual([expect.objectContaining({ index: 'bkt/idx', rows: 400 })]);
  const all = servers.flatMap((s, i) => spans(s.output(), i));
  expect(all.some((s) => s.action === 'vector-index')).toBe(true);
  const overlaps = all.flatMap((a) => all.filter((b) => b.process > a.process && a.start < b.end && b.start < a.end).map((b) => `${a.action}@p${a.process} overlaps ${b.action}@p${b.process}`));
  expect(overlaps).toEqual([]);
});

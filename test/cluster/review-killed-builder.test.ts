// Review (review-aws): two server processes on one backend, one index due for its ANN build. The
// process that starts the build is killed with SIGKILL mid-build; its lease lapses and the other
// process takes the index over and builds it, and queries work on the survivor. Measures how long
// the index waited (lease 60 s by default, plus the timer interval).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateIndexCommand, CreateVectorBucketCommand, PutVectorsCommand, QueryVectorsCommand } from '@aws-sdk/client-s3vectors';
import { clientFor } from '../helpers/service';
import { ROOT_KEYS, runScript, spawnServer, startBackend, type Backend, type ServerProcess } from './helpers';

jest.setTimeout(600_000);

let backend: Backend;
const servers: ServerProcess[] = [];
const dirs: string[] = [];
const tmp = (p: string) => dirs[dirs.push(mkdtempSync(join(tmpdir(), p))) - 1];

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

const DIM = 128;
const ROWS = 4000;
const vector = (i: number) => Array.from({ length: DIM }, (_, d) => {
  const x = Math.sin(i * 12.9898 + d * 78.233) * 43758.5453;
  return x - Math.floor(x) - 0.5;
});
interface Line { event?: string; action?: string; storageId?: string; time: number }
const lines = (s: ServerProcess): Line[] => s.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);
const vectorIndex = (s: ServerProcess, event: string) => lines(s).find((l) => l.event === event && l.action === 'vector-index');

test('a process killed mid-build: the other takes the index over once its lease lapses', async () => {
  const env = {
    ...backend.env,
    S3V_LOG_LEVEL: 'info',
    S3V_MAINT_INTERVAL_SECONDS: '1',
    S3V_MAINT_ANN_MIN_ROWS: '300',
    S3V_MAINT_WORKER: 'off',
    // A slow build, so that the kill lands inside it.
    S3V_MAINT_HNSW_M: '64',
    S3V_MAINT_HNSW_EF_CONSTRUCTION: '2000',
  };
  const writer = await spawnServer({ ...env, S3V_MAINT: 'off' }, tmp('s3v-review-kill-w-'));
  const client = clientFor(writer.url, ROOT_KEYS);
  try {
    await client.send(new CreateVectorBucketCommand({ vectorBucketName: 'bkt' }));
    await client.send(new CreateIndexCommand({ vectorBucketName: 'bkt', indexName: 'idx', dataType: 'float32', dimension: DIM, distanceMetric: 'euclidean' }));
    for (let first = 0; first < ROWS; first += 500) {
      const vectors = Array.from({ length: 500 }, (_, n) => ({ key: `v${first + n}`, data: { float32: vector(first + n) } }));
      await client.send(new PutVectorsCommand({ vectorBucketName: 'bkt', indexName: 'idx', vectors }));
    }
  } finally {
    client.destroy();
  }
  await writer.stop();
  servers.push(...(await Promise.all([0, 1].map((i) => spawnServer(env, tmp(`s3v-review-kill-p${i}-`))))));
  // The first process to start the build is killed at once.
  let victim: number | undefined;
  const until = Date.now() + 240_000;
  while (victim === undefined && Date.now() < until) {
    victim = servers.findIndex((s) => vectorIndex(s, 'maintenance.action-start'));
    if (victim < 0) victim = undefined;
    else servers[victim].child.kill('SIGKILL');
    if (victim === undefined) await new Promise((r) => setTimeout(r, 20));
  }
  expect(victim).toBeDefined();
  const killedAt = Date.now();
  const survivor = servers[1 - victim!];
  const startedByVictim = vectorIndex(servers[victim!], 'maintenance.action-start')!;
  // The victim must not have finished it (else this test proves nothing).
  expect(vectorIndex(servers[victim!], 'maintenance.action')).toBeUndefined();
  const deadline = Date.now() + 300_000;
  while (!vectorIndex(survivor, 'maintenance.action') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  const built = vectorIndex(survivor, 'maintenance.action');
  const survivorStart = lines(survivor).filter((l) => l.event === 'maintenance.action-start' && l.action === 'vector-index').map((l) => l.time);
  console.log(`review-killed-builder: victim p${victim} started at ${startedByVictim.time}, killed ~${killedAt}; survivor started ${survivorStart.map((t) => t - startedByVictim.time)} ms after the victim, built ${built ? built.time - killedAt : 'never'} ms after the kill`);
  expect(built).toBeDefined();
  // Never on both at once: the survivor started only after the victim's lease had lapsed.
  expect(Math.min(...survivorStart)).toBeGreaterThan(startedByVictim.time);
  const reader = clientFor(survivor.url, ROOT_KEYS);
  try {
    const q = await reader.send(new QueryVectorsCommand({ vectorBucketName: 'bkt', indexName: 'idx', queryVector: { float32: vector(7) }, topK: 1 }));
    expect(q.vectors?.[0]?.key).toBe('v7');
  } finally {
    reader.destroy();
  }
});

// SIGKILL of the real server (`bin/server.ts`) during writes, of its maintenance worker during a
// build, then of the server while the next worker builds the ANN index, with a client writing all
// along: after a restart on the same data folder every acknowledged vector is there, the index
// answers queries, and maintenance then completes the build.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateIndexCommand,
  CreateVectorBucketCommand,
  GetVectorsCommand,
  PutVectorsCommand,
  QueryVectorsCommand,
  type S3VectorsClient,
} from '@aws-sdk/client-s3vectors';
import { clientFor, TEST_CREDENTIALS } from '../helpers/service';
import { startServer as startProbeServer, type Server } from './probes/server';

jest.setTimeout(600_000);

const DIM = 64;
const SEED_ROWS = 30_000;

/** The real server as `npm start` runs it (the probe harness), with the test's keys and fast maintenance. */
function startServer(dataDir: string, maintenance: boolean): Promise<Server> {
  return startProbeServer(dataDir, {
    S3V_ROOT_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    S3V_ROOT_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    S3V_MAINT_INTERVAL_SECONDS: '1',
    S3V_MAINT_ANN_MIN_ROWS: '1000',
    S3V_MAINT: maintenance ? 'on' : 'off',
  });
}

function vector(i: number): number[] {
  return Array.from({ length: DIM }, (_, j) => Math.sin(i * 0.37 + j * 1.3) * 3 + (i % 17));
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('SIGKILL during an index build loses no acknowledged vector; the index works after restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 's3v-killbuild-'));
  let server = await startServer(dataDir, false);
  let client: S3VectorsClient = clientFor(server.url);
  const ref = { vectorBucketName: 'kill-bucket', indexName: 'kill-index' };
  const acknowledged: string[] = [];
  try {
    await client.send(new CreateVectorBucketCommand({ vectorBucketName: ref.vectorBucketName }));
    await client.send(new CreateIndexCommand({ ...ref, dataType: 'float32', dimension: DIM, distanceMetric: 'euclidean' }));
    for (let s = 0; s < SEED_ROWS; s += 500) {
      const keys = Array.from({ length: 500 }, (_, i) => s + i);
      await client.send(new PutVectorsCommand({ ...ref, vectors: keys.map((k) => ({ key: `s${k}`, data: { float32: vector(k) } })) }));
      acknowledged.push(...keys.map((k) => `s${k}`));
    }
    // A writer that keeps going until the server dies; only what answered 200 counts.
    let writing = true;
    let n = 0;
    const startWriter = () =>
      (async () => {
        while (writing) {
          const keys = Array.from({ length: 20 }, (_, i) => `w${n}-${i}`);
          n += 1;
          try {
            await client.send(new PutVectorsCommand({ ...ref, vectors: keys.map((k, i) => ({ key: k, data: { float32: vector(100_000 + n * 20 + i) } })) }));
            acknowledged.push(...keys);
          } catch {
            return;
          }
        }
      })();
    // First a kill during writes (no maintenance yet), then a restart with maintenance on.
    let writer = startWriter();
    await new Promise((resolve) => setTimeout(resolve, 700));
    server.child.kill('SIGKILL');
    expect(await server.exited).toBe('SIGKILL');
    await writer;
    client.destroy();
    server = await startServer(dataDir, true);
    client = clientFor(server.url);
    writing = true;
    writer = startWriter();
    const buildStarts = () => server.output().match(/maintenance\.action-start[^\n]*"action":"vector-index"/g)?.length ?? 0;
    const workerPids = () => [...server.output().matchAll(/"workerPid":(\d+)/g)].map((m) => Number(m[1]));
    await until(() => buildStarts() >= 1, 120_000, 'the index build to start');
    await new Promise((resolve) => setTimeout(resolve, 500));
    // First the worker alone: the server keeps serving, the build fails, the next pass starts a
    // new worker and builds again.
    process.kill(workerPids()[0], 'SIGKILL');
    await until(() => buildStarts() >= 2 && workerPids().length >= 2, 120_000, 'a new worker to start the build again');
    expect(server.output()).toContain('"event":"maintenance.failed"');
    const workerPid = workerPids()[1];
    await new Promise((resolve) => setTimeout(resolve, 500));
    server.child.kill('SIGKILL');
    expect(await server.exited).toBe('SIGKILL');
    writing = false;
    await writer;
    expect(server.output()).not.toContain('vector-index done');
    // The worker notices its server is gone and ends; it commits nothing half-built.
    await until(() => !alive(workerPid), 10_000, 'the maintenance worker to exit');
    client.destroy();

    server = await startServer(dataDir, true);
    client = clientFor(server.url);
    const missing: string[] = [];
    for (let s = 0; s < acknowledged.length; s += 100) {
      const keys = acknowledged.slice(s, s + 100);
      const { vectors } = await client.send(new GetVectorsCommand({ ...ref, keys }));
      const found = new Set(vectors!.map((v) => v.key));
      missing.push(...keys.filter((k) => !found.has(k)));
    }
    expect(missing).toEqual([]);
    const query = async () => (await client.send(new QueryVectorsCommand({ ...ref, topK: 3, queryVector: { float32: vector(1234) }, returnDistance: true }))).vectors!;
    expect((await query())[0]).toMatchObject({ key: 's1234', distance: 0 });
    // The restarted server's maintenance builds the index this time.
    await until(() => server.output().includes('vector-index done'), 300_000, 'the index build after restart');
    expect((await query())[0]).toMatchObject({ key: 's1234', distance: 0 });
    console.log(`kill during build: ${acknowledged.length} acknowledged vectors (${n} PutVectors while the server was killed twice), 0 lost`);
  } finally {
    client.destroy();
    server.child.kill('SIGKILL');
    await server.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
});

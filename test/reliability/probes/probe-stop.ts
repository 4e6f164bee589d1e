// Probe: SIGSTOP the maintenance worker mid-build. Does the server keep serving writes, does
// maintenance ever go on, does a SIGTERM of the server still end it (and the worker)?
// Then: SIGKILL the server while a worker builds: is the worker left behind?
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateIndexCommand, CreateVectorBucketCommand, PutVectorsCommand, QueryVectorsCommand } from '@aws-sdk/client-s3vectors';
import { alive, client, startServer } from './server';

const DIM = 64;
const ROWS = Number(process.env.ROWS ?? 20000);
const vec = (i: number) => Array.from({ length: DIM }, (_, j) => Math.sin(i * 0.37 + j * 1.3) * 3 + (i % 17));
const until = async (f: () => boolean, ms: number, what: string) => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timeout: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

async function main() {
  const mode = process.argv[2] ?? 'stop';
  const dir = mkdtempSync(join(tmpdir(), 'review-stop-'));
  const server = await startServer(dir, { S3V_MAINT_INTERVAL_SECONDS: '1', S3V_MAINT_ANN_MIN_ROWS: '1000', S3V_MAINT: 'off' });
  const c = client(server.url);
  await c.send(new CreateVectorBucketCommand({ vectorBucketName: 'bkt' }));
  await c.send(new CreateIndexCommand({ vectorBucketName: 'bkt', indexName: 'idx', dataType: 'float32', dimension: DIM, distanceMetric: 'euclidean' }));
  for (let s = 0; s < ROWS; s += 500) {
    await c.send(new PutVectorsCommand({ vectorBucketName: 'bkt', indexName: 'idx', vectors: Array.from({ length: 500 }, (_, k) => ({ key: `k${s + k}`, data: { float32: vec(s + k) } })) }));
  }
  server.child.kill('SIGTERM');
  await server.exited;
  const s2 = await startServer(dir, { S3V_MAINT_INTERVAL_SECONDS: '1', S3V_MAINT_ANN_MIN_ROWS: '1000' });
  const c2 = client(s2.url);
  await until(() => /"action":"vector-index"/.test(s2.output()) && /workerPid/.test(s2.output()), 120000, 'vector-index start');
  const pid = Number(/"workerPid":(\d+)/.exec(s2.output())![1]);
  await new Promise((r) => setTimeout(r, 500));
  console.log('worker', pid, 'server', s2.child.pid, 'mode', mode);
  if (mode === 'kill-server') {
    s2.child.kill('SIGKILL');
    await s2.exited;
    const t = Date.now();
    while (alive(pid) && Date.now() - t < 20000) await new Promise((r) => setTimeout(r, 100));
    console.log(JSON.stringify({ workerAliveAfterServerKill: alive(pid), waitedMs: Date.now() - t }));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  process.kill(pid, 'SIGSTOP');
  const lat: number[] = [];
  let errors = 0;
  const end = Date.now() + 8000;
  let i = ROWS;
  while (Date.now() < end) {
    const t = Date.now();
    try {
      await c2.send(new PutVectorsCommand({ vectorBucketName: 'bkt', indexName: 'idx', vectors: Array.from({ length: 10 }, () => ({ key: `n${i}`, data: { float32: vec(i++) } })) }));
      await c2.send(new QueryVectorsCommand({ vectorBucketName: 'bkt', indexName: 'idx', queryVector: { float32: vec(1) }, topK: 5 }));
    } catch {
      errors++;
    }
    lat.push(Date.now() - t);
    await new Promise((r) => setTimeout(r, 50));
  }
  lat.sort((a, b) => a - b);
  const before = s2.output().length;
  await new Promise((r) => setTimeout(r, 5000));
  const passesWhileStopped = (s2.output().slice(before).match(/"event":"maintenance.action-start"/g) ?? []).length;
  // A user presses Ctrl-C / systemd stops the service.
  const t = Date.now();
  s2.child.kill('SIGTERM');
  const result = await Promise.race([s2.exited.then(() => 'exited'), new Promise((r) => setTimeout(() => r('still running after 15 s'), 15000))]);
  console.log(JSON.stringify({ requestsWhileStopped: lat.length, errors, p50: lat[lat.length >> 1], max: lat[lat.length - 1], passesWhileStopped, sigterm: result, ms: Date.now() - t, workerAlive: alive(pid) }));
  if (result !== 'exited') s2.child.kill('SIGKILL');
  process.kill(pid, 'SIGCONT');
  await new Promise((r) => setTimeout(r, 2000));
  console.log('worker alive after SIGCONT + server gone:', alive(pid));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
main().catch((e) => { console.error(e); process.exit(1); });

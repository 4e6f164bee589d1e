// Probe: does maintenance's optimize (compaction + fold-in) ever commit under a steady write load?
// MODE=insert: only new keys; MODE=upsert: rewrites of existing keys; MODE=delete: deletes + inserts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateIndexCommand, CreateVectorBucketCommand, DeleteVectorsCommand, PutVectorsCommand } from '@aws-sdk/client-s3vectors';
import { client, startServer } from './server';

const DIM = 16;
const MODE = process.env.MODE ?? 'insert';
const SECONDS = Number(process.argv[2] ?? 40);
const vec = (i: number) => Array.from({ length: DIM }, (_, j) => Math.sin(i * 0.37 + j * 1.3) + (i % 7));

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'review-compact-'));
  const server = await startServer(dir, process.env.DEFAULTS ? {} : { S3V_MAINT_INTERVAL_SECONDS: '2', S3V_MAINT_COMPACT_MIN_FRAGMENTS: '8', S3V_MAINT_FOLD_MIN_ROWS: '200' });
  const c = client(server.url);
  await c.send(new CreateVectorBucketCommand({ vectorBucketName: 'cmp' }));
  await c.send(new CreateIndexCommand({ vectorBucketName: 'cmp', indexName: 'idx', dataType: 'float32', dimension: DIM, distanceMetric: 'euclidean' }));
  let n = 0;
  for (let s = 0; s < 5000; s += 500) await c.send(new PutVectorsCommand({ vectorBucketName: 'cmp', indexName: 'idx', vectors: Array.from({ length: 500 }, () => ({ key: `k${n}`, data: { float32: vec(n++) } })) }));
  const end = Date.now() + SECONDS * 1000;
  let writes = 0;
  while (Date.now() < end) {
    if (MODE === 'insert') await c.send(new PutVectorsCommand({ vectorBucketName: 'cmp', indexName: 'idx', vectors: Array.from({ length: 20 }, () => ({ key: `k${n}`, data: { float32: vec(n++) } })) }));
    else if (MODE === 'upsert') await c.send(new PutVectorsCommand({ vectorBucketName: 'cmp', indexName: 'idx', vectors: Array.from({ length: 20 }, () => { const k = Math.floor(Math.random() * 5000); return { key: `k${k}`, data: { float32: vec(k + writes) } }; }) }));
    else await c.send(new DeleteVectorsCommand({ vectorBucketName: 'cmp', indexName: 'idx', keys: Array.from({ length: 5 }, () => `k${Math.floor(Math.random() * n)}`) }));
    writes++;
    await new Promise((r) => setTimeout(r, Number(process.env.GAP_MS ?? 100)));
  }
  const log = server.output();
  const done = (log.match(/"event":"maintenance.action",[^\n]*"action":"optimize"/g) ?? []).length;
  const failed = (log.match(/"event":"maintenance.failed",[^\n]*"action":"optimize"/g) ?? []).length;
  const preempted = (log.match(/"event":"maintenance.failed",[^\n]*preempted/g) ?? []).length;
  console.log(JSON.stringify({ MODE, SECONDS, writes, writesPerSecond: +(writes / SECONDS).toFixed(1), optimizeDone: done, optimizeFailed: failed, preempted }));
  server.child.kill('SIGTERM');
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
}
main().catch((e) => { console.error(e); process.exit(1); });

// Probe: DeleteIndex / DeleteVectorBucket / CreateIndex (same name) racing PutVectors, QueryVectors
// and ListVectors while the maintenance worker builds; then the data folder after maintenance.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateIndexCommand, CreateVectorBucketCommand, DeleteIndexCommand, DeleteVectorBucketCommand, ListIndexesCommand, ListVectorsCommand, PutVectorsCommand, QueryVectorsCommand,
} from '@aws-sdk/client-s3vectors';
import { client, startServer } from './server';

const DIM = 32;
const ROUNDS = Number(process.argv[2] ?? 12);
const vec = (i: number) => Array.from({ length: DIM }, (_, j) => Math.sin(i * 0.37 + j * 1.3) + (i % 7));

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'review-delete-'));
  const server = await startServer(dir, { S3V_MAINT_INTERVAL_SECONDS: '1', S3V_MAINT_ANN_MIN_ROWS: '300', S3V_MAINT_KEY_INDEX_MIN_ROWS: '300', S3V_MAINT_FOLD_MAX_AGE_SECONDS: '1', S3V_MAINT_FOLD_MIN_ROWS: '10' });
  const c = client(server.url);
  const codes: Record<string, number> = {};
  const bad: string[] = [];
  const note = (op: string, e?: unknown) => {
    const status = e ? `${(e as Error).name}:${(e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode}` : '200';
    codes[`${op} ${status}`] = (codes[`${op} ${status}`] ?? 0) + 1;
    if (e && !/NotFound|ConflictException/.test((e as Error).name)) bad.push(`${op}: ${(e as Error).name} ${(e as Error).message.slice(0, 200)}`);
  };
  const run = async (op: string, f: () => Promise<unknown>) => f().then(() => note(op), (e) => note(op, e));
  let n = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const bucket = r % 4 === 3 ? `del-b${r}` : 'del-b';
    await c.send(new CreateVectorBucketCommand({ vectorBucketName: bucket })).catch(() => undefined);
    await c.send(new CreateIndexCommand({ vectorBucketName: bucket, indexName: 'idx', dataType: 'float32', dimension: DIM, distanceMetric: 'euclidean' }));
    for (let s = 0; s < 600; s += 300)
      await c.send(new PutVectorsCommand({ vectorBucketName: bucket, indexName: 'idx', vectors: Array.from({ length: 300 }, () => ({ key: `k${n}`, data: { float32: vec(n++) } })) }));
    // Give maintenance a moment to start a build on some rounds.
    await new Promise((res) => setTimeout(res, (r % 3) * 900));
    let stop = false;
    const writer = async () => {
      const cl = client(server.url);
      while (!stop) {
        await run('put', () => cl.send(new PutVectorsCommand({ vectorBucketName: bucket, indexName: 'idx', vectors: Array.from({ length: 50 }, () => ({ key: `k${n}`, data: { float32: vec(n++) } })) })));
        await run('query', () => cl.send(new QueryVectorsCommand({ vectorBucketName: bucket, indexName: 'idx', queryVector: { float32: vec(1) }, topK: 200 })));
        await run('list', () => cl.send(new ListVectorsCommand({ vectorBucketName: bucket, indexName: 'idx', maxResults: 50, segmentCount: 2, segmentIndex: 1 })));
      }
    };
    const writers = [writer(), writer(), writer()];
    await new Promise((res) => setTimeout(res, 300 + Math.random() * 700));
    if (r % 4 === 3) {
      await run('deleteIndex', () => c.send(new DeleteIndexCommand({ vectorBucketName: bucket, indexName: 'idx' })));
      await run('deleteBucket', () => c.send(new DeleteVectorBucketCommand({ vectorBucketName: bucket })));
    } else {
      await run('deleteIndex', () => c.send(new DeleteIndexCommand({ vectorBucketName: bucket, indexName: 'idx' })));
      // Same name again at once, while the writers keep going.
      await run('createIndex', () => c.send(new CreateIndexCommand({ vectorBucketName: bucket, indexName: 'idx', dataType: 'float32', dimension: DIM, distanceMetric: 'euclidean' })));
      await new Promise((res) => setTimeout(res, 300));
      await run('deleteIndex', () => c.send(new DeleteIndexCommand({ vectorBucketName: bucket, indexName: 'idx' })));
    }
    stop = true;
    await Promise.all(writers);
    // Anything still there?
    const left = await c.send(new ListIndexesCommand({ vectorBucketName: bucket })).then((x) => x.indexes?.length ?? 0, () => 0);
    if (left) bad.push(`round ${r}: ${left} index(es) left in ${bucket}`);
  }
  const tablesNow = () => readdirSync(dir, { recursive: true }).map(String).filter((p) => /\.lance$/.test(p) && !/_s3v_/.test(p));
  const right = tablesNow();
  await new Promise((res) => setTimeout(res, 8000));
  const later = tablesNow();
  const log = server.output();
  console.log(JSON.stringify({ rounds: ROUNDS, codes, bad: bad.slice(0, 10), badCount: bad.length, tablesRightAfter: right.length, tablesAfterMaintenance: later, orphansLogged: (log.match(/maintenance\.orphans/g) ?? []).length, builds: (log.match(/"action":"vector-index"/g) ?? []).length, errors5xx: (log.match(/"level":50[^\n]*/g) ?? []).slice(0, 3) }, null, 1));
  server.child.kill('SIGTERM');
  await server.exited;
  if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true }); else console.log(dir);
}
main().catch((e) => { console.error(e); process.exit(1); });

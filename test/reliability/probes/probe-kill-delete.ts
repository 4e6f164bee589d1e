// Probe: SIGKILL the server while a DeleteIndex runs; after restart the index is either whole or
// gone (gone for sure if the delete was acknowledged), and maintenance leaves no orphan folder.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateIndexCommand, CreateVectorBucketCommand, DeleteIndexCommand, ListIndexesCommand, PutVectorsCommand } from '@aws-sdk/client-s3vectors';
import { client, listAll, startServer, type Server } from './server';

const ROUNDS = Number(process.argv[2] ?? 6);
const env = { S3V_MAINT_INTERVAL_SECONDS: '1' };
async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'review-killdel-'));
  let server: Server = await startServer(dir, env);
  let c = client(server.url);
  await c.send(new CreateVectorBucketCommand({ vectorBucketName: 'kdel' }));
  const results: unknown[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const name = `idx${r}`;
    await c.send(new CreateIndexCommand({ vectorBucketName: 'kdel', indexName: name, dataType: 'float32', dimension: 8, distanceMetric: 'cosine' }));
    for (let s = 0; s < 1000; s += 250)
      await c.send(new PutVectorsCommand({ vectorBucketName: 'kdel', indexName: name, vectors: Array.from({ length: 250 }, (_, k) => ({ key: `k${s + k}`, data: { float32: [1, s + k, 2, 3, 4, 5, 6, 7] } })) }));
    let acked = false;
    const del = c.send(new DeleteIndexCommand({ vectorBucketName: 'kdel', indexName: name })).then(() => (acked = true), () => undefined);
    await new Promise((res) => setTimeout(res, r * 4));
    server.child.kill('SIGKILL');
    await server.exited;
    await del;
    server = await startServer(dir, env);
    c = client(server.url);
    const names = ((await c.send(new ListIndexesCommand({ vectorBucketName: 'kdel' }))).indexes ?? []).map((i) => i.indexName);
    const exists = names.includes(name);
    const rows = exists ? (await listAll(c, 'kdel', name, 1, 500).catch((e) => [String(e)])).length : 0;
    results.push({ r, killAfterMs: r * 4, acked, exists, rows });
  }
  await new Promise((res) => setTimeout(res, 6000));
  const tables = readdirSync(join(dir, 'vectors')).filter((p) => /\.lance$/.test(p) && !/_s3v_/.test(p));
  const names = ((await c.send(new ListIndexesCommand({ vectorBucketName: 'kdel' }))).indexes ?? []).map((i) => i.indexName);
  console.log(JSON.stringify({ results, indexesLeft: names, tableFolders: tables }));
  server.child.kill('SIGTERM');
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
}
main().catch((e) => { console.error(e); process.exit(1); });

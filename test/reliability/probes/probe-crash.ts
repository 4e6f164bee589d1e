// Probe: SIGKILL the server during PutVectors/DeleteVectors bursts with maintenance building, several
// times; after each restart every acknowledged vector has its exact last value, every acknowledged
// delete stays deleted, and no key is listed twice.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateIndexCommand, CreateVectorBucketCommand, DeleteVectorsCommand, PutVectorsCommand } from '@aws-sdk/client-s3vectors';
import { alive, client, dups, getAll, listAll, startServer, type Server } from './server';

const DIM = 32;
const KILLS = Number(process.argv[2] ?? 5);
const KEYS = 6000;
const val = (k: number, v: number) => Array.from({ length: DIM }, (_, j) => (j === 0 ? k : j === 1 ? v : ((k * 31 + j * 7 + v) % 97) / 4));
const env = { S3V_MAINT_INTERVAL_SECONDS: '1', S3V_MAINT_ANN_MIN_ROWS: '2000', S3V_MAINT_KEY_INDEX_MIN_ROWS: '1000', S3V_MAINT_FOLD_MIN_ROWS: '100', S3V_MAINT_FOLD_MAX_AGE_SECONDS: '1', S3V_MAINT_COMPACT_MIN_FRAGMENTS: '6', S3V_MAINT_KEEP_VERSIONS_SECONDS: '1' };

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'review-crash-'));
  let server: Server = await startServer(dir, env);
  let c = client(server.url);
  await c.send(new CreateVectorBucketCommand({ vectorBucketName: 'crash' }));
  await c.send(new CreateIndexCommand({ vectorBucketName: 'crash', indexName: 'idx', dataType: 'float32', dimension: DIM, distanceMetric: 'euclidean' }));
  // Per key: the acknowledged state (value version, or null = deleted); keys with a request in flight at
  // the kill are "either" (old or new state both fine).
  const acked = new Map<number, number | null>();
  const either = new Map<number, Set<number | null>>();
  let version = 1;
  const report: unknown[] = [];
  for (let kill = 0; kill <= KILLS; kill++) {
    let stop = false;
    const worker = async (w: number) => {
      const cl = client(server.url);
      while (!stop) {
        // Each writer owns keys ≡ w mod 4, so its own requests are ordered.
        const keys = [...new Set(Array.from({ length: 50 }, () => Math.floor(Math.random() * (KEYS / 4)) * 4 + w))];
        const v = version++;
        const del = Math.random() < 0.2;
        keys.forEach((k) => either.set(k, new Set([acked.get(k) ?? null, del ? null : v])));
        try {
          if (del) await cl.send(new DeleteVectorsCommand({ vectorBucketName: 'crash', indexName: 'idx', keys: keys.map((k) => `k${k}`) }));
          else await cl.send(new PutVectorsCommand({ vectorBucketName: 'crash', indexName: 'idx', vectors: keys.map((k) => ({ key: `k${k}`, data: { float32: val(k, v) } })) }));
          keys.forEach((k) => { acked.set(k, del ? null : v); either.delete(k); });
        } catch {
          return; // the kill: leave these keys as "either"
        }
      }
    };
    const writers = [0, 1, 2, 3].map(worker);
    if (kill === KILLS) {
      await new Promise((r) => setTimeout(r, 3000));
      stop = true;
      await Promise.all(writers);
    } else {
      // Kill at a random moment, some while a build runs.
      const waitFor = 2000 + Math.random() * 5000;
      await new Promise((r) => setTimeout(r, waitFor));
      const building = /"event":"maintenance.action-start"/.test(server.output().slice(-4000));
      const workerPid = [...server.output().matchAll(/"workerPid":(\d+)/g)].map((m) => Number(m[1])).pop();
      server.child.kill('SIGKILL');
      await server.exited;
      stop = true;
      await Promise.all(writers);
      await new Promise((r) => setTimeout(r, 1500));
      report.push({ kill, afterMs: Math.round(waitFor), recentBuildLog: building, orphanWorker: workerPid ? alive(workerPid) : 'none' });
      server = await startServer(dir, env);
    }
    c = client(server.url);
    // Check.
    const listed = await listAll(c, 'crash', 'idx', 2, 500);
    const stored = await getAll(c, 'crash', 'idx', Array.from({ length: KEYS }, (_, k) => `k${k}`));
    let lost = 0, wrong = 0, ghost = 0, present = 0;
    for (let k = 0; k < KEYS; k++) {
      const got = stored.get(`k${k}`);
      const gotV = got ? got[1] : null;
      if (got && got.join() !== val(k, got[1]).join()) wrong++;
      const ok = either.has(k) ? either.get(k)!.has(gotV) : (acked.get(k) ?? null) === gotV;
      if (!ok) (gotV === null ? lost++ : acked.get(k) === null ? ghost++ : wrong++);
      if (got) present++;
      // Resolve "either" to what is stored now.
      if (either.has(k)) { acked.set(k, gotV); either.delete(k); }
    }
    const listedSet = new Set(listed);
    const listMismatch = [...stored.keys()].filter((k) => !listedSet.has(k)).length + listed.filter((k) => !stored.has(k)).length;
    report.push({ check: kill, present, lost, wrong, ghost, listDups: dups(listed).length, listMismatch });
  }
  const log = server.output();
  console.log(JSON.stringify({ report, versions: version, builds: (log.match(/"action":"vector-index"/g) ?? []).length }, null, 0));
  server.child.kill('SIGTERM');
  await server.exited;
  if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true }); else console.log(dir);
}
main().catch((e) => { console.error(e); process.exit(1); });

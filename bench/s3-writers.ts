// Concurrent writers on one index of a shared s3+ddb store: W SDK callers, each sending PutVectors of
// new keys in a loop for a while, spread round-robin over P server processes (maintenance off, so
// only writes run). Says writes/s, PutVectors p50/p99, 503s, and the DynamoDB calls per write on the
// commit table (the commit itself, and the write lease: its takes, failed attempts and releases).
//   npx tsx bench/s3-writers.ts [--processes 1,3] [--writers 8] [--seconds 20] [--rows 10] [--dimension 128]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PutVectorsCommand, type S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { createIndex, sdkClient } from './client';
import { dynamoKinds, startS3Backend } from './s3-backend';
import { ServerProcess } from './server';
import { fmtMs, round, summarize } from './stats';

const { values } = parseArgs({
  options: {
    processes: { type: 'string', default: '1,3' },
    writers: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '20' },
    rows: { type: 'string', default: '10' },
    dimension: { type: 'string', default: '128' },
  },
});
const writers = Number(values.writers);
const seconds = Number(values.seconds);
const rows = Number(values.rows);
const dimension = Number(values.dimension);

const status = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;

async function run(processes: number) {
  const dir = mkdtempSync(join(tmpdir(), 's3v-writers-'));
  const backend = await startS3Backend(dir);
  const servers: ServerProcess[] = [];
  const clients: S3VectorsClient[] = [];
  try {
    for (let p = 0; p < processes; p++) {
      servers.push(await ServerProcess.start({ name: `writers-${processes}p-${p}`, dataDir: join(dir, `p${p}`), auth: true, logDir: dir, env: { ...backend.env, S3V_MAINT: 'off' } }));
    }
    clients.push(...servers.map((s) => sdkClient(s.url)));
    await createIndex(clients[0], 'bench', 'writers', dimension, 'euclidean');
    const mark = backend.dynamoCalls.length;
    const latencies: number[] = [];
    const failures: Record<string, number> = {};
    const end = performance.now() + seconds * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const client = clients[w % clients.length];
        for (let n = 0; performance.now() < end; n++) {
          const vectors = Array.from({ length: rows }, (_, r) => ({ key: `w${w}-${n}-${r}`, data: { float32: Array.from({ length: dimension }, (_, d) => Math.sin(w * 31 + n * 7 + r * 3 + d)) } }));
          const t = performance.now();
          try {
            await client.send(new PutVectorsCommand({ vectorBucketName: 'bench', indexName: 'writers', vectors }));
            latencies.push(performance.now() - t);
          } catch (e) {
            const key = `${status(e) ?? '?'} ${(e as Error).name}`;
            failures[key] = (failures[key] ?? 0) + 1;
          }
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const calls = dynamoKinds(backend.dynamoCalls.slice(mark).filter((c) => c.table === 'commits'));
    const writes = latencies.length;
    const perWrite = Object.fromEntries(Object.entries(calls).map(([k, v]) => [k.replace(' commits', ''), round(v / Math.max(1, writes), 2)]));
    const s = summarize(latencies);
    console.log(
      `${processes} process(es), ${writers} writers × ${rows} × ${dimension}-d: ${round(writes / elapsed, 1)} writes/s (${writes} in ${elapsed.toFixed(1)} s), ` +
        `p50 ${fmtMs(s.p50)} p99 ${fmtMs(s.p99)} ms, failures ${JSON.stringify(failures)}; commit table per write ${JSON.stringify(perWrite)}`,
    );
  } finally {
    clients.forEach((c) => c.destroy());
    await Promise.all(servers.map((s) => s.stop()));
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  for (const p of values.processes!.split(',').map(Number)) await run(p);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

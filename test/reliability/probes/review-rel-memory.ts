// Review probe (review-rel): peak RSS of `bin/server.ts` while N signed 13 MB PutVectors arrive at
// once (to an index that does not exist: parsed and validated, nothing written), with the body
// worker and inline. Run: npx tsx test/reliability/probes/review-rel-memory.ts [N] [unsigned]
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateVectorBucketCommand } from '@aws-sdk/client-s3vectors';
import { signedRequest } from '../../helpers/raw';
import { client, CREDS, startServer } from './server';

const N = Number(process.argv[2] ?? 8);
// `unsigned`: bodies with a bad signature, refused after they are read and hashed.
const UNSIGNED = process.argv[3] === 'unsigned';
const hwm = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function run(env: Record<string, string>, label: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 's3v-rr-mem-'));
  const server = await startServer(dir, env);
  try {
    await client(server.url).send(new CreateVectorBucketCommand({ vectorBucketName: 'rr-mem' }));
    const vectors = Array.from({ length: 500 }, (_, i) => ({ key: `k${i}`, data: { float32: Array.from({ length: 4096 }, (_, j) => Math.round(Math.sin(i * 4096 + j) * 1000) / 1000) } }));
    const body = JSON.stringify({ vectorBucketName: 'rr-mem', indexName: 'missing-index', vectors });
    const signed = await signedRequest(server.url, '/PutVectors', body, { credentials: UNSIGNED ? { ...CREDS, secretAccessKey: 'wrong' } : CREDS });
    const before = rss(server.child.pid!);
    const t0 = Date.now();
    const statuses = await Promise.all(Array.from({ length: N }, () => fetch(signed.url, signed.init).then((r) => r.status)));
    console.log(JSON.stringify({ label, n: N, bodyMB: +(body.length / 1e6).toFixed(1), statuses: [...new Set(statuses)], ms: Date.now() - t0, rssBeforeMB: Math.round(before), peakRssMB: Math.round(hwm(server.child.pid!)) }));
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

void (async () => {
  await run({}, 'worker');
  await run({ S3V_BODY_WORKERS: '0' }, 'inline');
})();

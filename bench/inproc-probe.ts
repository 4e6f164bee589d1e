// Where does the API's time go? `tsx bench/inproc-probe.ts [rows 5000] [dimension 784]`: in one
// process, interleaved per query: the store's own query (the server's Table handle), raw LanceDB on
// a freshly opened handle, and the full SDK → HTTP → pipeline path, with the store's time inside
// the API call (apiInner). PROBE_PROF=file.cpuprofile profiles the timed round (PROBE_ONLY=api
// times only the API path), for bench/profile-summary.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryVectorsCommand } from '@aws-sdk/client-s3vectors';
import { serviceConfigFromEnv } from '../lambdas/core/config';
import { startLocalService } from '../lambdas/local/local-service';
import { createIndex, ingest, sdkClient } from './client';
import { RawLance } from './raw-lance';
import { BENCH_CREDENTIALS, findStorageId } from './server';
import { summarize } from './stats';

async function main() {
  const rows = Number(process.argv[2] ?? 5000);
  const dim = Number(process.argv[3] ?? 784);
  const dataDir = mkdtempSync(join(tmpdir(), 's3v-probe-'));
  const config = serviceConfigFromEnv({ S3V_REGION: 'us-east-1' });
  const service = await startLocalService({ dataDir, config, inMemoryCatalog: true, auth: { root: BENCH_CREDENTIALS }, maintenance: false });
  const client = sdkClient(service.url);
  let s = 1;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  await createIndex(client, 'bkt', 'idx', dim, 'euclidean');
  await ingest(client, 'bkt', 'idx', { count: rows, dimension: dim, vectors: new Float32Array(rows * dim).map(rnd), key: (i) => `k${i}` }, { batch: 500, concurrency: 2 });
  const index = (await service.deps.catalog.getIndex('bkt', 'idx'))!;
  const raw = await RawLance.open(dataDir, findStorageId(dataDir, 'bkt', 'idx'), 'euclidean');
  const qs = Array.from({ length: 400 }, () => Array.from({ length: dim }, rnd));
  const t: Record<string, number[]> = { store: [], raw: [], api: [], apiInner: [] };
  const store = service.deps.store;
  const original = store.query.bind(store);
  let inner = 0;
  store.query = async (...a) => {
    const t0 = performance.now();
    try {
      return await original(...a);
    } finally {
      inner += performance.now() - t0;
    }
  };
  const session = new Session();
  session.connect();
  const only = process.env.PROBE_ONLY;
  for (let round = 0; round < 2; round++) {
    if (round === 1 && process.env.PROBE_PROF) {
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    for (let b = 0; b < qs.length; b += 25) {
      for (const q of qs.slice(b, b + 25)) {
        const v = Float32Array.from(q);
        let t0 = performance.now();
        if (!only || only === 'store') await original(index, { vector: v, topK: 10, metadata: false });
        if (round) t.store.push(performance.now() - t0);
        t0 = performance.now();
        if (!only || only === 'raw') await raw.query(v, 10);
        if (round) t.raw.push(performance.now() - t0);
        t0 = performance.now();
        if (!only || only === 'api') await client.send(new QueryVectorsCommand({ vectorBucketName: 'bkt', indexName: 'idx', topK: 10, queryVector: { float32: q }, returnDistance: true }));
        if (round) t.api.push(performance.now() - t0);
        if (round) t.apiInner.push(inner);
        inner = 0;

      }
    }
  }
  if (process.env.PROBE_PROF) writeFileSync(process.env.PROBE_PROF, JSON.stringify((await session.post('Profiler.stop')).profile));
  for (const [k, v] of Object.entries(t)) console.log(k.padEnd(6), summarize(v).p50.toFixed(2), 'ms p50');
  raw.close();
  client.destroy();
  await service.close();
  rmSync(dataDir, { recursive: true, force: true });
}
void main();

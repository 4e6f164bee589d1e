// Measures filtered (and unfiltered) QueryVectors through the SDK, hot index on vs off, on a
// prepared Fashion-MNIST folder (test/hot/measure-hot.ts prepare): not a test.
//   npx tsx test/hot/measure-filtered.ts OFF_DIR ON_DIR [f32|f16]
// Two copies of one folder: the hot-off server reads OFF_DIR, the hot-on one ON_DIR (it writes
// its snapshot there). Queries are interleaved one by one so the machine's load falls on both.
import { readFileSync } from 'node:fs';
import { QueryVectorsCommand, type S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { fashionMnist } from '../../bench/datasets';
import { groundTruth, recallAt, rowNorms } from '../../bench/groundtruth';
import { startS3Vectors, type S3VectorsServer } from '../../lambdas/embed';
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';

const [offDir, onDir, quantization = 'f32'] = process.argv.slice(2);
const QUERIES = 300;
const ref = { vectorBucketName: 'bench', indexName: 'fmnist' };
const log = (...a: unknown[]) => console.log(new Date().toISOString().slice(11, 19), ...a);
const ds = fashionMnist(60_000, QUERIES, (l) => log(l));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const CREDS = { accessKeyId: 'AKIDBENCHROOT0000000', secretAccessKey: 'bench-root-secret-key-00000000000000000' };
const start = (dataDir: string, env: Record<string, string>): Promise<S3VectorsServer> => startS3Vectors({ dataDir, persist: true, env, auth: CREDS, maintenance: false });
const smapsMiB = (match: string) => {
  // Resident KiB of this process's mappings of files whose path contains `match`.
  let kb = 0;
  let inside = false;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inside = line.includes(match);
    else if (inside && line.startsWith('Rss:')) kb += Number(/(\d+)/.exec(line)![1]);
  }
  return Math.round(kb / 1024);
};

async function main() {
  const off = await start(offDir, { S3V_HOT_INDEX_MB: '0' });
  const on = await start(onDir, { S3V_HOT_QUIET_MS: '500', S3V_HOT_BUILD_THREADS: '2', S3V_HOT_QUANTIZATION: quantization });
  const clients: Record<'off' | 'on', S3VectorsClient> = { off: off.client(), on: on.client() };
  const store = on.service.deps.store as LanceVectorStore;
  const t0 = Date.now();
  while (Object.values(store.hotStats()!.tables)[0]?.phase !== 'ready') {
    await clients.on.send(new QueryVectorsCommand({ ...ref, queryVector: { float32: Array.from(ds.queries.subarray(0, ds.dimension)) }, topK: 1 }));
    await new Promise((r) => setTimeout(r, 1000));
    if (Date.now() - t0 > 20 * 60_000) throw new Error('hot index not ready');
  }
  log(`hot index (${quantization}) ready after ${((Date.now() - t0) / 1000).toFixed(0)} s; snapshot mapping resident ${smapsMiB('.usearch')} MiB`);
  const norms = rowNorms(ds);
  const cacheDir = 'bench/results/.cache';
  const kinds = [undefined, ...ds.filters.filter((f) => f.name !== '50%')];
  for (const f of kinds) {
    const { truth } = await groundTruth(ds, norms, f?.name ?? 'all', f?.spec, { k: f ? 10 : 100, queryCount: QUERIES, cacheDir });
    const ms = { off: [] as number[], on: [] as number[] };
    const recall = { off: 0, on: 0 };
    const before = store.hotStats()!;
    for (let round = 0; round < 2; round++) {
      for (let qi = 0; qi < QUERIES; qi++) {
        const q = Array.from(ds.queries.subarray(qi * ds.dimension, (qi + 1) * ds.dimension));
        for (const side of round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
          const t = performance.now();
          const out = await clients[side].send(new QueryVectorsCommand({ ...ref, queryVector: { float32: q }, topK: 10, filter: f?.filter(qi) as never, returnDistance: true }));
          ms[side].push(performance.now() - t);
          if (round === 0) recall[side] += recallAt(ds, norms, truth, qi, out.vectors!.map((v) => v.key!), 10, f?.spec(qi));
        }
      }
    }
    const after = store.hotStats()!;
    const paths = `hot served ${after.served - before.served} (exact ${after.servedFilteredExact - before.servedFilteredExact}, hnsw ${after.servedFilteredHnsw - before.servedFilteredHnsw}, fallbacks ${after.filteredFallbacks - before.filteredFallbacks})`;
    log(`${f ? `filter ${f.name}` : 'unfiltered'}: off p50 ${pct(ms.off, 50).toFixed(2)} p99 ${pct(ms.off, 99).toFixed(2)} recall ${(recall.off / QUERIES).toFixed(4)} | on p50 ${pct(ms.on, 50).toFixed(2)} p99 ${pct(ms.on, 99).toFixed(2)} recall ${(recall.on / QUERIES).toFixed(4)} | ${paths}`);
  }
  log(`process RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB, snapshot mapping resident ${smapsMiB('.usearch')} MiB`);
  await on.stop();
  await off.stop();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

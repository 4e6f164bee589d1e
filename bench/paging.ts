// `tsx bench/paging.ts [--rows 50000]`: what paging costs, through the SDK against the real service
// (in this process, maintenance run to completion so the key BTREE exists):
// - ListVectors over every key, 500 per page: time per page against page number (flat = linear
//   overall; growing with the page number = quadratic);
// - QueryVectors topK 10,000 read as 100 pages against one topK 10,000 search (the first page).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ListVectorsCommand, QueryVectorsCommand, type S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { serviceConfigFromEnv } from '../lambdas/core/config';
import { startLocalService } from '../lambdas/local/local-service';
import { createIndex, ingest, sdkClient } from './client';
import { BENCH_CREDENTIALS, REGION } from './server';
import { mean, summarize } from './stats';

export interface PagingResult {
  rows: number;
  list: { pages: number; totalMs: number; firstPageMs: number; firstTenthMeanMs: number; lastTenthMeanMs: number; pageMs: number[] };
  query: { topK: number; pages: number; oneSearchMs: number; allPagesMs: number; ratio: number };
}

async function listAll(client: S3VectorsClient, ref: object): Promise<number[]> {
  const times: number[] = [];
  let nextToken: string | undefined;
  do {
    const t0 = performance.now();
    const out = await client.send(new ListVectorsCommand({ ...ref, maxResults: 500, nextToken }));
    times.push(performance.now() - t0);
    nextToken = out.nextToken;
  } while (nextToken);
  return times;
}

/** Reads a QueryVectors answer page by page: time to the first page and to the last. */
export async function queryPages(client: S3VectorsClient, ref: object, vector: number[], topK: number): Promise<{ first: number; all: number; pages: number }> {
  let nextToken: string | undefined;
  let pages = 0;
  let first = 0;
  const t0 = performance.now();
  do {
    const out = await client.send(new QueryVectorsCommand({ ...ref, topK, queryVector: { float32: vector }, returnDistance: true, nextToken }));
    if (pages++ === 0) first = performance.now() - t0;
    nextToken = out.nextToken;
  } while (nextToken);
  return { first, all: performance.now() - t0, pages };
}

export async function measurePaging(rows: number, log: (line: string) => void = () => {}): Promise<PagingResult> {
  const dir = mkdtempSync(join(tmpdir(), 's3v-paging-'));
  const env = { S3V_REGION: REGION, S3V_MAX_TOP_K: '10000', S3V_MAINT: '' };
  const service = await startLocalService({
    dataDir: dir,
    config: serviceConfigFromEnv(env),
    inMemoryCatalog: true,
    auth: { root: BENCH_CREDENTIALS },
    maintenance: true,
  });
  const client = sdkClient(service.url);
  try {
    const dimension = 16;
    let s = 3;
    const random = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
    const vectors = new Float32Array(rows * dimension).map(random);
    const ref = { vectorBucketName: 'paging', indexName: 'keys' };
    await createIndex(client, ref.vectorBucketName, ref.indexName, dimension, 'euclidean');
    await ingest(client, ref.vectorBucketName, ref.indexName, { count: rows, dimension, vectors, key: (i) => `key-${(i * 7919) % rows}` }, { batch: 500, concurrency: 2 });
    log(`paging: ${rows} keys in; running maintenance to completion (key BTREE, ANN index)`);
    await service.maintenance!.runNow({ catchUp: true });
    await listAll(client, ref); // warm-up
    const times = await listAll(client, ref);
    const tenth = Math.max(1, Math.floor(times.length / 10));
    const list = {
      pages: times.length,
      totalMs: times.reduce((a, b) => a + b, 0),
      firstPageMs: times[0],
      firstTenthMeanMs: mean(times.slice(0, tenth)),
      lastTenthMeanMs: mean(times.slice(-tenth)),
      pageMs: times,
    };
    const topK = Math.min(10_000, rows);
    const q = Array.from({ length: dimension }, random);
    await queryPages(client, ref, q, topK); // warm-up
    const runs = [0, 1, 2].map(() => 0);
    const firsts: number[] = [];
    const alls: number[] = [];
    let pages = 0;
    for (const _ of runs) {
      const r = await queryPages(client, ref, q, topK);
      firsts.push(r.first);
      alls.push(r.all);
      pages = r.pages;
    }
    const oneSearchMs = summarize(firsts).p50;
    const allPagesMs = summarize(alls).p50;
    return { rows, list, query: { topK, pages, oneSearchMs, allPagesMs, ratio: allPagesMs / oneSearchMs } };
  } finally {
    client.destroy();
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const { values } = parseArgs({ options: { rows: { type: 'string', default: '50000' } } });
  measurePaging(Number(values.rows), console.log).then((r) => {
    const f = (x: number) => x.toFixed(1);
    console.log(
      `ListVectors ${r.rows} keys: ${r.list.pages} pages in ${f(r.list.totalMs)} ms; first page ${f(r.list.firstPageMs)} ms, ` +
        `mean of the first tenth ${f(r.list.firstTenthMeanMs)} ms, of the last tenth ${f(r.list.lastTenthMeanMs)} ms`,
    );
    const tenth = Math.max(1, Math.floor(r.list.pages / 10));
    const medians = Array.from({ length: 10 }, (_, i) => summarize(r.list.pageMs.slice(i * tenth + (i === 0 ? 1 : 0), (i + 1) * tenth)).p50);
    console.log(`ListVectors median page time per tenth of the listing (first page left out): ${medians.map(f).join(' ')} ms`);
    console.log(
      `QueryVectors topK ${r.query.topK}: ${r.query.pages} pages ${f(r.query.allPagesMs)} ms, one search (first page) ${f(r.query.oneSearchMs)} ms, ratio ${r.query.ratio.toFixed(2)}×`,
    );
  });
}

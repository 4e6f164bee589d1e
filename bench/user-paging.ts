// Paging at the user flow's size (issue 16): a full ListVectors through the SDK paginator, split in
// segments read concurrently, and QueryVectors topK 10,000 read page by page against one search
// (its first page). Both against the settled server the user flow started.
import { paginateListVectors, type S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { queryPages } from './paging';
import { summarize } from './stats';

export interface UserPagingResult {
  list: { segments: number; keys: number; pages: number; seconds: number };
  query: { topK: number; pages: number; oneSearchMs: number; allPagesMs: number; ratio: number };
}

/** Every key, `segments` paginators at once (500 keys per page); time to the last page. */
async function listAll(client: S3VectorsClient, ref: { vectorBucketName: string; indexName: string }, segments: number) {
  const t0 = performance.now();
  let keys = 0;
  let pages = 0;
  await Promise.all(
    Array.from({ length: segments }, async (_, segmentIndex) => {
      const input = { ...ref, maxResults: 500, ...(segments > 1 ? { segmentCount: segments, segmentIndex } : {}) };
      for await (const page of paginateListVectors({ client, pageSize: 500 }, input)) {
        keys += page.vectors?.length ?? 0;
        pages++;
      }
    }),
  );
  return { segments, keys, pages, seconds: (performance.now() - t0) / 1000 };
}

export async function userPaging(client: S3VectorsClient, bucket: string, index: string, rows: number, query: number[], log: (line: string) => void): Promise<UserPagingResult> {
  const ref = { vectorBucketName: bucket, indexName: index };
  const list = await listAll(client, ref, 4);
  log(`ListVectors, every key (SDK paginator, ${list.segments} segments at once): ${list.keys} keys in ${list.pages} pages, ${list.seconds.toFixed(1)} s`);
  const topK = Math.min(10_000, rows);
  await queryPages(client, ref, query, topK); // warm-up
  const firsts: number[] = [];
  const alls: number[] = [];
  let pages = 0;
  for (let i = 0; i < 3; i++) {
    const r = await queryPages(client, ref, query, topK);
    firsts.push(r.first);
    alls.push(r.all);
    pages = r.pages;
  }
  const oneSearchMs = summarize(firsts).p50;
  const allPagesMs = summarize(alls).p50;
  const result = { list, query: { topK, pages, oneSearchMs, allPagesMs, ratio: allPagesMs / oneSearchMs } };
  log(`QueryVectors topK ${topK}: ${pages} pages in ${allPagesMs.toFixed(0)} ms, one search (first page) ${oneSearchMs.toFixed(0)} ms (${result.query.ratio.toFixed(2)}×)`);
  return result;
}

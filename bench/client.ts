// Everything a user would do, through @aws-sdk/client-s3vectors over HTTP: create, ingest, query.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateIndexCommand,
  CreateVectorBucketCommand,
  PutVectorsCommand,
  QueryVectorsCommand,
  S3VectorsClient,
  type PutInputVector,
} from '@aws-sdk/client-s3vectors';
import type { Metric } from './datasets';
import { BENCH_CREDENTIALS, REGION } from './server';

export function sdkClient(url: string): S3VectorsClient {
  // No retries: a failed call must show up as a failure, not as a slow sample.
  return new S3VectorsClient({ endpoint: url, region: REGION, credentials: BENCH_CREDENTIALS, maxAttempts: 1 });
}

export async function createIndex(client: S3VectorsClient, bucket: string, index: string, dimension: number, metric: Metric): Promise<void> {
  await client.send(new CreateVectorBucketCommand({ vectorBucketName: bucket }));
  await client.send(new CreateIndexCommand({ vectorBucketName: bucket, indexName: index, dataType: 'float32', dimension, distanceMetric: metric }));
}

export interface VectorSource {
  count: number;
  dimension: number;
  vectors: Float32Array;
  key(i: number): string;
  metadata?(i: number): Record<string, string | number>;
}

export function putBatch(source: VectorSource, first: number, last: number): PutInputVector[] {
  const out: PutInputVector[] = [];
  for (let i = first; i < last; i++) {
    const data = Array.from(source.vectors.subarray(i * source.dimension, (i + 1) * source.dimension));
    out.push({ key: source.key(i), data: { float32: data }, ...(source.metadata ? { metadata: source.metadata(i) } : {}) });
  }
  return out;
}

export interface IngestResult {
  vectors: number;
  seconds: number;
  vectorsPerSecond: number;
  callLatenciesMs: number[];
}

/** PutVectors of `batch` vectors per call from `concurrency` callers until every row is in. */
export async function ingest(
  client: S3VectorsClient,
  bucket: string,
  index: string,
  source: VectorSource,
  options: { batch: number; concurrency: number; onBatch?: (vectors: number) => void },
): Promise<IngestResult> {
  const batches = Math.ceil(source.count / options.batch);
  let next = 0;
  const latencies: number[] = [];
  const started = performance.now();
  const caller = async () => {
    for (;;) {
      const b = next++;
      if (b >= batches) return;
      const first = b * options.batch;
      const last = Math.min(source.count, first + options.batch);
      const vectors = putBatch(source, first, last);
      const t0 = performance.now();
      try {
        await client.send(new PutVectorsCommand({ vectorBucketName: bucket, indexName: index, vectors }));
      } catch (error) {
        // Enough to tell a reset from a modeled error, and a slow call from a dead server, after the fact.
        const e = error as Error & { code?: string; $metadata?: { httpStatusCode?: number } };
        const what = [e.name, e.code, e.$metadata?.httpStatusCode].filter(Boolean).join(' ');
        throw new Error(`PutVectors of rows ${first}–${last - 1} failed after ${Math.round(performance.now() - t0)} ms at ${new Date().toISOString()}: ${what}: ${e.message}`, { cause: error });
      }
      latencies.push(performance.now() - t0);
      options.onBatch?.(last - first);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, () => caller()));
  const seconds = (performance.now() - started) / 1000;
  return { vectors: source.count, seconds, vectorsPerSecond: source.count / seconds, callLatenciesMs: latencies };
}

export interface QuerySpec {
  bucket: string;
  index: string;
  topK: number;
  /** Filter document per query, or none. */
  filter?: (qi: number) => Record<string, unknown>;
}

export interface TimedQueries {
  latenciesMs: number[];
  /** Returned keys per query, in order. */
  keys: string[][];
}

/** Sequential QueryVectors (one in flight, as latency is measured), after `warmup` untimed calls. */
export async function timedQueries(
  client: S3VectorsClient,
  spec: QuerySpec,
  queryVectors: number[][],
  options: { warmup: number; onQuery?: () => void },
): Promise<TimedQueries> {
  const command = (qi: number) =>
    new QueryVectorsCommand({
      vectorBucketName: spec.bucket,
      indexName: spec.index,
      queryVector: { float32: queryVectors[qi] },
      topK: spec.topK,
      returnDistance: true,
      ...(spec.filter ? { filter: spec.filter(qi) as never } : {}),
    });
  for (let w = 0; w < Math.min(options.warmup, queryVectors.length); w++) await client.send(command(w));
  const latenciesMs: number[] = [];
  const keys: string[][] = [];
  for (let qi = 0; qi < queryVectors.length; qi++) {
    const cmd = command(qi);
    const t0 = performance.now();
    const out = await client.send(cmd);
    latenciesMs.push(performance.now() - t0);
    keys.push((out.vectors ?? []).map((v) => v.key!));
    options.onQuery?.();
  }
  return { latenciesMs, keys };
}

/**
 * A server that answers every request with an empty QueryVectors result: the SDK client's own
 * cost (serialize, sign, HTTP round trip, parse) with no service behind it.
 */
export async function nullServer(): Promise<{ url: string; close(): Promise<void> }> {
  const body = Buffer.from('{"vectors":[],"distanceMetric":"euclidean"}');
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

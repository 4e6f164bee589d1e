// Issue 10 (8): what a large PutVectors costs everybody else. One client sends 13 MB PutVectors
// (500 × 4096-d) back to back while another times small requests (GetIndex and a 1-vector
// QueryVectors through the SDK); once with large bodies parsed on a worker thread (the default),
// once inline (S3V_BODY_WORKERS=0). `npx tsx bench/large-body.ts [--puts N] [--cpu-prof]`.
import { CreateIndexCommand, CreateVectorBucketCommand, GetIndexCommand, QueryVectorsCommand } from '@aws-sdk/client-s3vectors';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { sdkClient } from './client';
import { BENCH_CREDENTIALS, REGION, ServerProcess } from './server';
import { round, summarize, type LatencySummary } from './stats';

export interface LargeBodyOptions {
  /** Measured large PutVectors per mode (after one warm-up). */
  puts?: number;
  count?: number;
  dimension?: number;
  /** Which modes to run (default both). */
  modes?: LargeBodyMode[];
  /** Extra node flags for the server (e.g. --cpu-prof). */
  nodeArgs?: string[];
  log?: (line: string) => void;
}

export type LargeBodyMode = 'worker' | 'inline';

export interface LargeBodyFigures {
  mode: LargeBodyMode;
  bodyMB: number;
  /** One JSON.parse of the body in the bench process, for scale. */
  inlineParseMs: number;
  bigPut: LatencySummary;
  small: LatencySummary;
}

interface SignedPut {
  body: Buffer;
  headers: Record<string, string>;
}

/** Values with three decimals (an embedding rounded): ~13 MB of JSON for 500 × 4096. */
function bodyText(bucket: string, index: string, count: number, dimension: number, seed: number): string {
  let state = seed;
  const next = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const vectors = Array.from({ length: count }, (_, i) => ({
    key: `v${i}`,
    data: { float32: Array.from({ length: dimension }, () => Math.round(next() * 1000) / 1000) },
    metadata: { seed, i },
  }));
  return JSON.stringify({ vectorBucketName: bucket, indexName: index, vectors });
}

/** Signed before the clock starts, with the payload hash given, so the sender only writes bytes. */
async function signPut(url: string, text: string): Promise<SignedPut> {
  const target = new URL(url);
  const body = Buffer.from(text);
  const hash = createHash('sha256').update(body).digest('hex');
  const signer = new SignatureV4({ credentials: BENCH_CREDENTIALS, region: REGION, service: 's3vectors', sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: target.hostname,
    port: Number(target.port),
    path: '/PutVectors',
    headers: { host: target.host, 'content-type': 'application/json', 'x-amz-content-sha256': hash },
    body: text,
  });
  return { body, headers: { ...(signed.headers as Record<string, string>), 'content-length': String(body.length) } };
}

function sendPut(url: string, put: SignedPut): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, method: 'POST', path: '/PutVectors', headers: put.headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(put.body);
  });
}

async function runMode(mode: LargeBodyMode, o: Required<Omit<LargeBodyOptions, 'modes' | 'nodeArgs'>> & { nodeArgs: string[] }): Promise<LargeBodyFigures> {
  const runDir = mkdtempSync(join(tmpdir(), `s3v-large-body-${mode}-`));
  const server = await ServerProcess.start({
    name: `large-body-${mode}`,
    dataDir: join(runDir, 'data'),
    logDir: runDir,
    auth: true,
    env: { S3V_MAINT: 'off', ...(mode === 'inline' ? { S3V_BODY_WORKERS: '0' } : {}) },
    nodeArgs: o.nodeArgs,
  });
  const client = sdkClient(server.url);
  try {
    const bucket = 'large-body';
    const index = 'vectors';
    await client.send(new CreateVectorBucketCommand({ vectorBucketName: bucket }));
    await client.send(new CreateIndexCommand({ vectorBucketName: bucket, indexName: index, dataType: 'float32', dimension: o.dimension, distanceMetric: 'euclidean' }));
    const texts = Array.from({ length: o.puts + 1 }, (_, i) => bodyText(bucket, index, o.count, o.dimension, 1000 + i));
    const parses = [0, 1, 2].map(() => {
      const start = performance.now();
      JSON.parse(texts[0]);
      return performance.now() - start;
    });
    const puts = await Promise.all(texts.map((text) => signPut(server.url, text)));
    texts.length = 0;
    const warm = await sendPut(server.url, puts.shift()!);
    if (warm !== 200) throw new Error(`warm-up PutVectors answered ${warm}`);
    const queryVector = { float32: Array.from({ length: o.dimension }, (_, i) => ((i % 7) - 3) / 10) };

    const small: number[] = [];
    let sending = true;
    const smallLoop = (async () => {
      for (let i = 0; sending; i++) {
        const start = performance.now();
        if (i % 2 === 0) await client.send(new GetIndexCommand({ vectorBucketName: bucket, indexName: index }));
        else await client.send(new QueryVectorsCommand({ vectorBucketName: bucket, indexName: index, queryVector, topK: 1 }));
        small.push(performance.now() - start);
      }
    })();
    const big: number[] = [];
    try {
      for (const put of puts) {
        const start = performance.now();
        const status = await sendPut(server.url, put);
        if (status !== 200) throw new Error(`PutVectors answered ${status}`);
        big.push(performance.now() - start);
      }
    } finally {
      sending = false;
      await smallLoop;
    }
    const figures: LargeBodyFigures = {
      mode,
      bodyMB: round(puts[0].body.length / 1e6, 1),
      inlineParseMs: round(parses.sort((a, b) => a - b)[1], 1),
      bigPut: summarize(big),
      small: summarize(small),
    };
    o.log(line(figures));
    return figures;
  } finally {
    client.destroy();
    await server.stop();
    rmSync(runDir, { recursive: true, force: true });
  }
}

function line(f: LargeBodyFigures): string {
  const ms = (v: number) => `${round(v, 1)} ms`;
  return (
    `${f.mode.padEnd(6)} body ${f.bodyMB} MB (JSON.parse ${ms(f.inlineParseMs)}) · large PutVectors p50 ${ms(f.bigPut.p50)} (n=${f.bigPut.n})` +
    ` · small requests n=${f.small.n} p50 ${ms(f.small.p50)} p99 ${ms(f.small.p99)} max ${ms(f.small.max)}`
  );
}

export async function runLargeBody(options: LargeBodyOptions = {}): Promise<LargeBodyFigures[]> {
  const o = {
    puts: options.puts ?? 5,
    count: options.count ?? 500,
    dimension: options.dimension ?? 4096,
    nodeArgs: options.nodeArgs ?? [],
    log: options.log ?? ((l: string) => console.log(l)),
  };
  const results: LargeBodyFigures[] = [];
  for (const mode of options.modes ?? (['worker', 'inline'] as const)) results.push(await runMode(mode, o));
  return results;
}

if (require.main === module) {
  const { values } = parseArgs({ options: { puts: { type: 'string' }, 'cpu-prof': { type: 'boolean', default: false } } });
  runLargeBody({
    puts: values.puts ? Number(values.puts) : undefined,
    nodeArgs: values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${join(tmpdir(), 's3v-large-body-prof')}`] : [],
  }).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

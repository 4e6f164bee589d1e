// Probe harness: the real `bin/server.ts` in a child process (as `npm start` runs it), with its
// maintenance worker, and a few helpers to inspect the data through the SDK.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import {
  GetVectorsCommand,
  ListVectorsCommand,
  QueryVectorsCommand,
  S3VectorsClient,
} from '@aws-sdk/client-s3vectors';

export const CREDS = { accessKeyId: 'AKIAREVIEWDATA000001', secretAccessKey: 'review-data-secret-key-0000000000000000' };
const root = join(__dirname, '..', '..', '..');

export interface Server {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<NodeJS.Signals | number | null>;
}

export function startServer(dataDir: string, env: Record<string, string> = {}): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bin', 'server.ts'), '--port', '0', '--data-dir', dataDir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      S3V_LOG_LEVEL: 'info',
      S3V_REGION: 'us-east-1',
      S3V_ACCOUNT_ID: '123456789012',
      S3V_ROOT_ACCESS_KEY_ID: CREDS.accessKeyId,
      S3V_ROOT_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
      ...env,
    },
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (match) {
        clearInterval(timer);
        resolve({ child, url: match[1], output: () => output, exited });
      }
    }, 50);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`server exited: ${output.slice(-3000)}`));
    });
  });
}

export function client(url: string, maxAttempts = 1): S3VectorsClient {
  return new S3VectorsClient({ endpoint: url, region: 'us-east-1', credentials: CREDS, maxAttempts });
}

export function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)]).toString().trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function listAll(c: S3VectorsClient, bucket: string, index: string, segments = 1, maxResults = 100): Promise<string[]> {
  const keys: string[] = [];
  for (let s = 0; s < segments; s++) {
    let nextToken: string | undefined;
    do {
      const page = await c.send(
        new ListVectorsCommand({ vectorBucketName: bucket, indexName: index, maxResults, nextToken, ...(segments > 1 ? { segmentCount: segments, segmentIndex: s } : {}) }),
      );
      keys.push(...(page.vectors ?? []).map((v) => v.key!));
      nextToken = page.nextToken;
    } while (nextToken);
  }
  return keys;
}

export async function queryAll(c: S3VectorsClient, bucket: string, index: string, vector: number[], topK: number): Promise<string[]> {
  const keys: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await c.send(new QueryVectorsCommand({ vectorBucketName: bucket, indexName: index, queryVector: { float32: vector }, topK, nextToken }));
    keys.push(...(page.vectors ?? []).map((v) => v.key!));
    nextToken = page.nextToken;
  } while (nextToken);
  return keys;
}

export async function getAll(c: S3VectorsClient, bucket: string, index: string, keys: string[]): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (let i = 0; i < keys.length; i += 100) {
    const r = await c.send(new GetVectorsCommand({ vectorBucketName: bucket, indexName: index, keys: keys.slice(i, i + 100), returnData: true }));
    for (const v of r.vectors ?? []) out.set(v.key!, v.data!.float32!);
  }
  return out;
}

export function dups(keys: string[]): string[] {
  const seen = new Set<string>();
  const d: string[] = [];
  for (const k of keys) (seen.has(k) ? d.push(k) : seen.add(k));
  return d;
}

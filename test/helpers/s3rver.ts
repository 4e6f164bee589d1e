// A local S3-compatible server (s3rver) on a free loopback port, storing under a fresh temp folder.
// Every request is recorded (method + path) so tests can check what the code really asked S3 for.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// s3rver ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => {
  configureBuckets(): Promise<void>;
  callback(): (req: unknown, res: unknown) => void;
  logger?: { exceptions: { unhandle(): void }; close(): void };
};

export interface S3Request {
  method: string;
  path: string;
}

export interface LocalS3 {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  directory: string;
  /** Requests seen so far, in order. */
  requests: S3Request[];
  close(): Promise<void>;
}

export async function startS3rver(buckets: string[]): Promise<LocalS3> {
  const directory = mkdtempSync(join(tmpdir(), 's3rver-'));
  const app = new S3rver({
    directory,
    silent: true,
    configureBuckets: buckets.map((name) => ({ name })),
    // Path-style requests only: Lance sends http://127.0.0.1:port/bucket/key.
    vhostBuckets: false,
  });
  await app.configureBuckets();
  const handle = app.callback();
  const requests: S3Request[] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '' });
    handle(req, res);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    directory,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      app.logger?.exceptions.unhandle();
      app.logger?.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

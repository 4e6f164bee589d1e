// A local S3-compatible server (s3rver) on a free loopback port, storing under a fresh temp folder.
// Every request is recorded (method + path) so tests can check what the code really asked S3 for.
import { createServer, type Server } from 'node:http';
import { listen } from '../../lambdas/local/listen';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// s3rver ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => {
  store: Record<string, unknown>;
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

/** Object operations of s3rver's filesystem store: each is several file operations. */
const STORE_OPERATIONS = ['getMetadata', 'existsObject', 'getObject', 'putObject', 'copyObject', 'deleteObject', 'listObjects', 'putObjectMultipart'];

/**
 * Amazon S3 is strongly consistent: a write, copy or delete is all-or-nothing and every later read
 * sees it. s3rver's store is not — CopyObject writes the object file and then its metadata file, so
 * a HEAD in between answers 404, and a DELETE racing a COPY of the same key leaves half an object.
 * Lance's s3+ddb commit protocol copies manifests while other processes read them, so those windows
 * break commits that S3 would never break. Running the store's object operations one at a time gives
 * s3rver S3's atomicity (at loopback speed it costs little).
 */
function linearize(store: Record<string, unknown>): void {
  let tail: Promise<unknown> = Promise.resolve();
  // The store's methods call each other (copyObject → getMetadata): inside, they use the originals.
  const inner = Object.create(store) as Record<string, unknown>;
  for (const name of STORE_OPERATIONS) {
    const original = store[name] as (...args: unknown[]) => Promise<unknown>;
    if (typeof original !== 'function') continue;
    inner[name] = original;
    store[name] = (...args: unknown[]) => {
      const run = tail.then(() => original.apply(inner, args));
      tail = run.catch(() => undefined);
      return run;
    };
  }
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
  linearize(app.store);
  const handle = app.callback();
  const requests: S3Request[] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '' });
    handle(req, res);
  });
  server.keepAliveTimeout = 1000;
  const { port } = await listen(server);
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

// The shared backend of `--storage s3`: s3rver (the bucket) and dynalite (the catalog and Lance's
// commit table) in the bench process, as the tests run them (test/cluster/helpers.ts), each behind
// a counter so the bench can say how many object-store requests a query costs and how many
// DynamoDB round trips a PutVectors commit takes.
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startDynalite } from '../lambdas/local/dynalite';
import { startS3rver, type S3Request } from '../test/helpers/s3rver';
import { REPO_ROOT } from './server';

export interface DynamoCall {
  operation: string;
  table: string;
}

export interface S3Backend {
  /** The S3V_* (and AWS_*) variables every server process and CLI gets. */
  env: Record<string, string>;
  s3Requests: S3Request[];
  dynamoCalls: DynamoCall[];
  close(): Promise<void>;
}

/** A pass-through HTTP proxy to dynalite that records each call's operation and table. */
export async function countingProxy(target: string, calls: DynamoCall[]): Promise<{ url: string; server: Server }> {
  const { hostname, port } = new URL(target);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let table = '';
      try {
        const call = JSON.parse(body.toString() || '{}') as { TableName?: string; RequestItems?: Record<string, unknown> };
        // Batch calls name their tables in RequestItems.
        table = String(call.TableName ?? Object.keys(call.RequestItems ?? {}).join('+'));
      } catch {
        /* not JSON: dynalite answers it */
      }
      calls.push({ operation: String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '', table });
      const upstream = request({ hostname, port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 500, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

export async function startS3Backend(runDir: string): Promise<S3Backend> {
  const s3 = await startS3rver(['vectors']);
  const dynamo = await startDynalite();
  const dynamoCalls: DynamoCall[] = [];
  const proxy = await countingProxy(dynamo.endpoint, dynamoCalls);
  mkdirSync(runDir, { recursive: true });
  const env = {
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
    S3V_STORAGE_URI: 's3+ddb://vectors/data?ddbTableName=commits',
    S3V_STORAGE_OPTIONS: JSON.stringify({ aws_endpoint: s3.endpoint, allow_http: 'true' }),
    S3V_DYNAMODB_ENDPOINT: proxy.url,
    S3V_CATALOG_TABLE: 'catalog',
    S3V_SECRET_KEY_FILE: join(runDir, 'secret.key'),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  // Asynchronously: the catalog and the store answer from this process.
  await new Promise<void>((resolve, reject) =>
    execFile(process.execPath, ['--no-warnings', '--import', 'tsx', 'bin/setup-storage.ts'], { cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 60_000 }, (error, _out, err) =>
      error ? reject(new Error(`setup-storage failed: ${err || error.message}`)) : resolve(),
    ),
  );
  return {
    env,
    s3Requests: s3.requests,
    dynamoCalls,
    close: async () => {
      proxy.server.closeAllConnections();
      await new Promise<void>((r) => proxy.server.close(() => r()));
      await s3.close();
      await dynamo.close();
    },
  };
}

/** GET / HEAD / PUT / LIST / DELETE / POST counts of a slice of s3rver's request log. */
export function s3Kinds(requests: S3Request[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of requests) {
    const kind = r.method === 'GET' && /[?&](list-type|prefix|delimiter)=/.test(r.path) ? 'LIST' : r.method;
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

/** "<Operation> <table>" counts of a slice of the DynamoDB call log. */
export function dynamoKinds(calls: DynamoCall[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) out[`${c.operation} ${c.table}`] = (out[`${c.operation} ${c.table}`] ?? 0) + 1;
  return out;
}

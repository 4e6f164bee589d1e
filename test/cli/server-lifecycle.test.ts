// `npm start` as users meet it (issue 17, item 4): a taken port, an unusable data folder or a data
// folder another server holds end with a clear message and a distinct exit code; SIGTERM and SIGINT
// stop the server within 5 s, letting a request in flight finish, and what it acknowledged is there
// after a restart (the catalog was flushed).
import { CreateIndexCommand, CreateVectorBucketCommand, GetVectorsCommand, S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signedRequest } from '../helpers/raw';
import { spawnServer, startServerProcess, type ServerProcess } from '../reliability/sec-process';

let base: string;
const procs: { child: ServerProcess['child'] }[] = [];

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 's3v-lifecycle-'));
});
afterAll(() => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  rmSync(base, { recursive: true, force: true });
});

function rootClient(url: string, dataDir: string): S3VectorsClient {
  const credentials = JSON.parse(readFileSync(join(dataDir, 'root-credentials.json'), 'utf8'));
  return new S3VectorsClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 });
}

describe('start-up failures', () => {
  it('a port in use: exit code 3 and a message naming the port', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    const p = spawnServer(join(base, 'port'), {}, ['--port', String(port)]);
    procs.push(p);
    expect(await p.exited).toBe(3);
    expect(p.output()).toContain(`port ${port} on 127.0.0.1 is already in use`);
    expect(p.output()).not.toMatch(/\n\s+at /); // a message, not a stack trace
    await new Promise<void>((r) => blocker.close(() => r()));
  }, 60_000);

  it('a data folder that cannot be created or written: exit code 4 and the reason', async () => {
    const file = join(base, 'a-file');
    writeFileSync(file, 'not a folder');
    const p = spawnServer(join(file, 'data'));
    procs.push(p);
    expect(await p.exited).toBe(4);
    expect(p.output()).toMatch(/the data directory .*a-file\/data is not usable \(ENOTDIR\)/);
  }, 60_000);

  it('a data folder another server is using: exit code 4, and the first server is unharmed', async () => {
    const dataDir = join(base, 'shared');
    const first = await startServerProcess(dataDir);
    procs.push(first);
    const second = spawnServer(dataDir);
    procs.push(second);
    expect(await second.exited).toBe(4);
    expect(second.output()).toContain('another server is using this data directory');
    const client = rootClient(first.url, dataDir);
    expect((await client.send(new CreateVectorBucketCommand({ vectorBucketName: 'still-mine' }))).$metadata.httpStatusCode).toBe(200);
    client.destroy();
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
  }, 90_000);
});

describe('stopping', () => {
  it('SIGTERM: the request in flight finishes with 200, the process exits 0 within 5 s, and the data is there after a restart', async () => {
    const dataDir = join(base, 'term');
    const server = await startServerProcess(dataDir);
    procs.push(server);
    const client = rootClient(server.url, dataDir);
    await client.send(new CreateVectorBucketCommand({ vectorBucketName: 'bkt-term' }));
    await client.send(new CreateIndexCommand({ vectorBucketName: 'bkt-term', indexName: 'idx', dataType: 'float32', dimension: 64, distanceMetric: 'euclidean' }));
    client.destroy();

    const vectors = Array.from({ length: 200 }, (_, i) => ({ key: `v${i}`, data: { float32: Array.from({ length: 64 }, (_, j) => (i * 64 + j) % 7) } }));
    const body = Buffer.from(JSON.stringify({ vectorBucketName: 'bkt-term', indexName: 'idx', vectors }));
    const credentials = JSON.parse(readFileSync(join(dataDir, 'root-credentials.json'), 'utf8'));
    const signed = await signedRequest(server.url, '/PutVectors', body.toString(), { credentials });
    const url = new URL(server.url);
    // Half the body now, the signal, then the rest: the request is in flight when SIGTERM arrives.
    const response = new Promise<number>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, method: 'POST', path: '/PutVectors', headers: { ...(signed.init.headers as Record<string, string>), 'content-length': String(body.length) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.write(body.subarray(0, body.length >> 1));
      setTimeout(() => {
        server.child.kill('SIGTERM');
        setTimeout(() => req.end(body.subarray(body.length >> 1)), 500);
      }, 300);
    });
    const signalled = Date.now() + 300;
    expect(await response).toBe(200);
    expect(await server.exited).toBe(0);
    const stopMs = Date.now() - signalled;
    expect(stopMs).toBeLessThan(5_000);
    expect(server.output()).toMatch(/stopped \(SIGTERM, \d+ ms\)/);
    expect(server.output()).not.toContain('NodeVersionSupportWarning');

    const again = await startServerProcess(dataDir);
    procs.push(again);
    const after = rootClient(again.url, dataDir);
    let found = 0;
    for (const part of [vectors.slice(0, 100), vectors.slice(100)]) {
      const got = await after.send(new GetVectorsCommand({ vectorBucketName: 'bkt-term', indexName: 'idx', keys: part.map((v) => v.key) }));
      found += got.vectors?.length ?? 0;
    }
    expect(found).toBe(200);
    after.destroy();
    again.child.kill('SIGINT');
    expect(await again.exited).toBe(0);
  }, 120_000);
});

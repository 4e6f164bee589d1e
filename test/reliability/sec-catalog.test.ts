// Issue 10 (4): the embedded catalog must not be an open door. A local process that is not the
// server's user finds whatever the server listens on (its TCP ports in /proc/net/tcp, its Unix
// sockets) and tries to read and write the catalog with made-up keys: every attempt must fail.
import { CreateVectorBucketCommand } from '@aws-sdk/client-s3vectors';
import { ListTablesCommand, PutItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestService, type TestService } from '../helpers/service';

const run = promisify(execFile);
let t: TestService;

beforeAll(async () => {
  t = await startTestService({ persistCatalog: true });
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: 'guarded' }));
});
afterAll(async () => {
  await t?.close();
});

/** Socket inodes this process holds open. */
function ownSocketInodes(): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** Loopback/any TCP ports this process listens on (what a scan of /proc/net/tcp finds). */
function ownListeningPorts(): number[] {
  const inodes = ownSocketInodes();
  const ports: number[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9])) continue; // 0A: LISTEN
      ports.push(parseInt(f[1].split(':')[1], 16));
    }
  }
  return ports;
}

/** Unix socket paths this process listens on. */
function ownUnixSockets(): string[] {
  const inodes = ownSocketInodes();
  return readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 8 && inodes.has(f[6]) && f[7].startsWith('/') && f[5] === '01') // 01: listening
    .map((f) => f[7]);
}

const madeUpKeys = { accessKeyId: 'AKIAMADEUPKEY0000000', secretAccessKey: 'made-up-secret' };

async function tryCatalogOverTcp(port: number): Promise<string[]> {
  const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: madeUpKeys, maxAttempts: 1 });
  const got: string[] = [];
  try {
    const tables = await client.send(new ListTablesCommand({}));
    got.push(`read tables ${JSON.stringify(tables.TableNames)}`);
  } catch {
    // refused: good
  }
  try {
    await client.send(
      new PutItemCommand({ TableName: 's3vectors-catalog', Item: { pk: { S: 'IAMUSER#intruder' }, sk: { S: 'USER' }, name: { S: 'intruder' }, enabled: { BOOL: true } } }),
    );
    got.push('wrote an item');
  } catch {
    // refused: good
  }
  client.destroy();
  return got;
}

// Run as `nobody`: a DynamoDB ListTables and PutItem over the socket with made-up keys.
const INTRUDER = `
const http = require('http');
const [socketPath] = process.argv.slice(1);
const call = (target, body) => new Promise((resolve) => {
  const req = http.request({ socketPath, path: '/', method: 'POST', headers: {
    'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.' + target,
    authorization: 'AWS4-HMAC-SHA256 Credential=AKIAMADEUPKEY0000000/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00' } },
    (res) => { let d = ''; res.on('data', (c) => d += c); res.on('end', () => resolve(target + ' answered ' + res.statusCode + ' ' + d.slice(0, 200))); });
  req.on('error', (e) => resolve(target + ' refused ' + e.code));
  req.end(JSON.stringify(body));
});
(async () => {
  console.log(await call('ListTables', {}));
  console.log(await call('PutItem', { TableName: 's3vectors-catalog', Item: { pk: { S: 'IAMUSER#intruder' }, sk: { S: 'USER' } } }));
})();
`;

describe('the embedded catalog is closed to other local processes', () => {
  it('no TCP port of the server serves the catalog to made-up keys', async () => {
    const ports = ownListeningPorts();
    const apiPort = Number(new URL(t.url).port);
    expect(ports).toContain(apiPort); // the scan sees what an intruder's scan sees
    for (const port of ports) expect({ port, got: await tryCatalogOverTcp(port) }).toEqual({ port, got: [] });
  });

  it('the catalog socket sits in a 0700 folder; another user can neither read nor write through it', async () => {
    const sockets = ownUnixSockets();
    const endpoint = readFileSync(join(t.dataDir, 'catalog-endpoint'), 'utf8').trim();
    expect(endpoint).toMatch(/^unix:\//);
    expect(sockets).toContain(endpoint.slice(5));
    for (const socketPath of sockets) {
      expect(statSync(join(socketPath, '..')).mode & 0o777).toBe(0o700);
      const { stdout } = await run(process.execPath, ['-e', INTRUDER, socketPath], { uid: 65534, gid: 65534, timeout: 15_000 });
      const lines = stdout.trim().split('\n');
      expect(lines).toEqual([expect.stringMatching(/^ListTables refused E(ACCES|PERM)/), expect.stringMatching(/^PutItem refused E(ACCES|PERM)/)]);
    }
    expect(statSync(t.dataDir).mode & 0o777).toBe(0o700);
  });

  it('the server itself still reads and writes its catalog', async () => {
    const out = await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: 'still-works' }));
    expect(out.$metadata.httpStatusCode).toBe(200);
  });
});

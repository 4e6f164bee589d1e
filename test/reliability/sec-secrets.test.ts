// Issue 10 (5, 6): secrets at rest. The real server process: its data folder is 0700 and every file
// in it owner-only (catalog logs included); an IAM user's secret key is nowhere in the catalog files
// (sealed with data/secret.key) yet verifies its requests; plaintext records from before are sealed
// when read; the root secret is printed only when it is generated.
import { CreateIndexCommand, CreateVectorBucketCommand, ListVectorBucketsCommand, PutVectorsCommand, S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { execFile } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { aesGcmSealer } from '../../lambdas/adapters/secret-sealer';
import { DynamoIdentityStore } from '../../lambdas/adapters/dynamo-identities';
import { DynamoCatalog } from '../../lambdas/adapters/dynamo-catalog';
import { startDynalite, type EmbeddedDynamo } from '../../lambdas/local/dynalite';
import { ROOT, TSX, startServerProcess, type ServerProcess } from './sec-process';

const run = promisify(execFile);
let base: string;
let dataDir: string;
const procs: ServerProcess[] = [];

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 's3v-secrets-'));
  dataDir = join(base, 'data');
});
afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  rmSync(base, { recursive: true, force: true });
});

async function stop(p: ServerProcess): Promise<void> {
  p.child.kill('SIGTERM');
  expect(await p.exited).toBe(0);
}

function walk(dir: string): { path: string; mode: number; dir: boolean }[] {
  const out: { path: string; mode: number; dir: boolean }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isSymbolicLink()) continue;
    out.push({ path, mode: st.mode & 0o777, dir: st.isDirectory() });
    if (st.isDirectory()) out.push(...walk(path));
  }
  return out;
}

const clientFor = (endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }) =>
  new S3VectorsClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });

let userKey: { accessKeyId: string; secretAccessKey: string };
let rootSecret: string;

describe('secrets at rest, through the real server process', () => {
  it('prints the root secret when it generates it, and afterwards only where it is kept', async () => {
    const first = await startServerProcess(dataDir);
    procs.push(first);
    rootSecret = JSON.parse(readFileSync(join(dataDir, 'root-credentials.json'), 'utf8')).secretAccessKey;
    expect(first.output()).toContain(rootSecret);
    expect(first.output()).toContain('generated now');
    // An IAM user and key made while the server runs, used at once (SigV4 against the sealed secret).
    const env = { ...process.env, S3V_LOG_LEVEL: 'warn' };
    await run(TSX, ['bin/iam.ts', 'create-user', 'alice', '--data-dir', dataDir], { cwd: ROOT, env });
    userKey = JSON.parse((await run(TSX, ['bin/iam.ts', 'create-access-key', 'alice', '--json', '--data-dir', dataDir], { cwd: ROOT, env })).stdout);
    const policy = join(base, 'all.json');
    writeFileSync(policy, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3vectors:*', Resource: '*' }] }));
    await run(TSX, ['bin/iam.ts', 'attach-policy', 'alice', 'all', policy, '--data-dir', dataDir], { cwd: ROOT, env });
    const alice = clientFor(first.url, userKey);
    expect((await alice.send(new CreateVectorBucketCommand({ vectorBucketName: 'alices' }))).$metadata.httpStatusCode).toBe(200);
    await alice.send(new CreateIndexCommand({ vectorBucketName: 'alices', indexName: 'idx', dataType: 'float32', dimension: 2, distanceMetric: 'cosine' }));
    await alice.send(new PutVectorsCommand({ vectorBucketName: 'alices', indexName: 'idx', vectors: [{ key: 'k', data: { float32: [1, 0] } }] }));
    alice.destroy();
    await stop(first);

    const second = await startServerProcess(dataDir);
    procs.push(second);
    expect(second.output()).not.toContain(rootSecret);
    expect(second.output()).toContain(join(dataDir, 'root-credentials.json'));
    const again = clientFor(second.url, userKey);
    expect((await again.send(new ListVectorBucketsCommand({}))).vectorBuckets?.map((b) => b.vectorBucketName)).toEqual(['alices']);
    again.destroy();
    await stop(second);
  }, 120_000);

  it('the data folder is 0700 and nothing under it is readable by group or others', () => {
    expect(lstatSync(dataDir).mode & 0o777).toBe(0o700);
    const entries = walk(dataDir);
    expect(entries.some((e) => e.path.includes(`${join('data', 'catalog')}/`) && e.path.endsWith('.log'))).toBe(true);
    expect(entries.some((e) => e.path.includes(`${join('data', 'vectors')}/`) && !e.dir)).toBe(true);
    expect(entries.filter((e) => e.mode & 0o077).map((e) => `${e.mode.toString(8)} ${e.path}`)).toEqual([]);
    expect(lstatSync(join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
  });

  it('the catalog files do not contain the IAM secret key (in any encoding the record could use)', () => {
    const files = walk(join(dataDir, 'catalog')).filter((e) => !e.dir);
    expect(files.length).toBeGreaterThan(0);
    const forms = [userKey.secretAccessKey, Buffer.from(userKey.secretAccessKey).toString('base64')];
    const leaks = files.filter((f) => forms.some((s) => readFileSync(f.path).includes(s))).map((f) => f.path);
    expect(leaks).toEqual([]);
    // ... while the key id is there (the files were really searched).
    expect(files.some((f) => readFileSync(f.path).includes(userKey.accessKeyId))).toBe(true);
  });

  it('an older data folder (0755, 0644 catalog files) is made private at start', async () => {
    chmodSync(dataDir, 0o755);
    for (const e of walk(join(dataDir, 'catalog'))) chmodSync(e.path, e.dir ? 0o755 : 0o644);
    chmodSync(join(dataDir, 'root-credentials.json'), 0o644);
    chmodSync(join(dataDir, 'secret.key'), 0o644);
    const p = await startServerProcess(dataDir);
    procs.push(p);
    expect(lstatSync(dataDir).mode & 0o777).toBe(0o700);
    expect(walk(join(dataDir, 'catalog')).filter((e) => e.mode & 0o077).map((e) => e.path)).toEqual([]);
    expect(lstatSync(join(dataDir, 'root-credentials.json')).mode & 0o777).toBe(0o600);
    expect(lstatSync(join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
    await stop(p);
  }, 60_000);
});

describe('plaintext secret records from before sealing', () => {
  let dynamo: EmbeddedDynamo;
  let client: DynamoDBClient;
  const table = 'secrets-migration';
  const sealer = aesGcmSealer(Buffer.alloc(32, 7));

  beforeAll(async () => {
    dynamo = await startDynalite();
    client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    await new DynamoCatalog(client, table).ensureTable();
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.close();
  });

  it('are sealed the first time they are read, and still verify', async () => {
    const old = new DynamoIdentityStore(client, table); // no sealer: how records were written before
    await old.createUser('bob');
    const key = await old.createAccessKey('bob');
    const raw = async () => (await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: `IAMKEY#${key.accessKeyId}` }, sk: { S: 'KEY' } } }))).Item!;
    expect((await raw()).secretAccessKey?.S).toBe(key.secretAccessKey);

    const store = new DynamoIdentityStore(client, table, undefined, sealer);
    expect((await store.findByAccessKey(key.accessKeyId))?.secretAccessKey).toBe(key.secretAccessKey);
    const item = await raw();
    expect(item.secretAccessKey).toBeUndefined();
    expect(item.sealedSecret?.S).toMatch(/^aes256gcm:v1:/);
    expect(JSON.stringify(item)).not.toContain(key.secretAccessKey);
    expect((await store.findByAccessKey(key.accessKeyId))?.secretAccessKey).toBe(key.secretAccessKey);
  });

  it('a sealed secret moved onto another key id, or opened with another data folder key, verifies nothing', async () => {
    const store = new DynamoIdentityStore(client, table, undefined, sealer);
    await store.createUser('carol');
    const key = await store.createAccessKey('carol');
    const sealed = (await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: `IAMKEY#${key.accessKeyId}` }, sk: { S: 'KEY' } } }))).Item!;
    await client.send(new PutItemCommand({ TableName: table, Item: { ...sealed, pk: { S: 'IAMKEY#AKIAMOVED00000000000' } } }));
    expect(await store.findByAccessKey('AKIAMOVED00000000000')).toBeUndefined();
    const otherKey = new DynamoIdentityStore(client, table, undefined, aesGcmSealer(Buffer.alloc(32, 8)));
    expect(await otherKey.findByAccessKey(key.accessKeyId)).toBeUndefined();
    expect((await store.findByAccessKey(key.accessKeyId))?.secretAccessKey).toBe(key.secretAccessKey);
  });
});


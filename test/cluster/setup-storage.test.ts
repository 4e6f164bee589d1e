// `npm run setup-storage` and the server's start-up checks on an external backend: set up once,
// idempotent, and every misconfiguration refused at start with one clear line (no stack trace).
import { existsSync, statSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { CreateIndexCommand, CreateVectorBucketCommand, GetVectorsCommand, PutVectorsCommand } from '@aws-sdk/client-s3vectors';
import { clientFor } from '../helpers/service';
import { ROOT_KEYS, runScript, spawnServer, startBackend, type Backend } from './helpers';

jest.setTimeout(360_000);

let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(async () => {
  await backend?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const dirs: string[] = [];
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 's3v-cluster-data-'));
  dirs.push(dir);
  return dir;
};
const oneLine = (text: string) => text.trim().split('\n').filter((l) => l.trim() !== '');

test('the server refuses a backend that is not set up, and says to run setup-storage', async () => {
  const run = await runScript('server.ts', ['--port', '0', '--data-dir', dataDir()], backend.env);
  expect(run.code).toBe(5);
  expect(oneLine(run.stderr)).toHaveLength(1);
  expect(run.stderr).toMatch(/npm run setup-storage/);
});

test('setup-storage creates the tables and the key once; a second run changes nothing; the server then starts', async () => {
  const first = await runScript('setup-storage.ts', [], backend.env);
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  expect(first.stdout).toMatch(/catalog table catalog .*: created/);
  expect(first.stdout).toMatch(/commit table commits .*: created/);
  expect(first.stdout).toMatch(/bucket vectors .*: reachable, writable/);
  expect(existsSync(backend.env.S3V_SECRET_KEY_FILE)).toBe(true);
  expect(statSync(backend.env.S3V_SECRET_KEY_FILE).mode & 0o777).toBe(0o600);
  const second = await runScript('setup-storage.ts', [], backend.env);
  expect(second.code).toBe(0);
  expect(second.stdout).toMatch(/catalog table catalog .*: already there/);
  expect(second.stdout).toMatch(/commit table commits .*: already there/);
  expect(second.stdout).toMatch(/secret key .*: already there/);
  const server = await spawnServer(backend.env, dataDir());
  await server.stop();
});

test('vectors on S3 with the embedded catalog (one process): S3V_STORAGE_URI alone', async () => {
  const options = { ...JSON.parse(backend.env.S3V_STORAGE_OPTIONS), dynamodb_endpoint: backend.env.S3V_DYNAMODB_ENDPOINT };
  const env = { ...backend.env, S3V_DYNAMODB_ENDPOINT: '', S3V_CATALOG_TABLE: '', S3V_STORAGE_URI: 's3+ddb://vectors/solo?ddbTableName=commits', S3V_STORAGE_OPTIONS: JSON.stringify(options) };
  const server = await spawnServer(env, dataDir());
  const client = clientFor(server.url, ROOT_KEYS);
  try {
    await client.send(new CreateVectorBucketCommand({ vectorBucketName: 'solo' }));
    await client.send(new CreateIndexCommand({ vectorBucketName: 'solo', indexName: 'idx', dataType: 'float32', dimension: 2, distanceMetric: 'cosine' }));
    await client.send(new PutVectorsCommand({ vectorBucketName: 'solo', indexName: 'idx', vectors: [{ key: 'a', data: { float32: [1, 2] } }] }));
    const got = await client.send(new GetVectorsCommand({ vectorBucketName: 'solo', indexName: 'idx', keys: ['a'], returnData: true }));
    expect(got.vectors?.[0]?.data?.float32).toEqual([1, 2]);
  } finally {
    client.destroy();
    await server.stop();
  }
  // The rows are in the bucket, under the URI's prefix.
  const objects = readdirSync(join(backend.s3Directory, 'vectors'), { recursive: true }).map(String);
  expect(objects.some((o) => o.startsWith('solo'))).toBe(true);
});

describe('bad configuration fails at start with one clear line', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['wrong catalog endpoint', { S3V_DYNAMODB_ENDPOINT: 'http://127.0.0.1:1' }, /cannot reach the catalog table 'catalog' at http:\/\/127\.0\.0\.1:1/],
    ['missing catalog table', { S3V_CATALOG_TABLE: 'no-such-table' }, /the catalog table 'no-such-table' does not exist .*npm run setup-storage/],
    ['missing commit table', { S3V_STORAGE_URI: 's3+ddb://vectors/data?ddbTableName=nope' }, /the commit table 'nope' does not exist .*npm run setup-storage/],
    ['missing bucket', { S3V_STORAGE_URI: 's3+ddb://no-bucket/data?ddbTableName=commits' }, /bucket 'no-bucket' does not exist/],
    ['wrong store keys', { S3V_STORAGE_OPTIONS: '__WRONG_KEYS__' }, /rejected the credentials for bucket 'vectors' \(InvalidAccessKeyId\)/],
    ['storage options not JSON', { S3V_STORAGE_OPTIONS: '{aws_endpoint' }, /S3V_STORAGE_OPTIONS is not valid JSON/],
    ['no shared secret key', { S3V_SECRET_KEY_FILE: '' }, /needs S3V_SECRET_KEY_FILE/],
    ['no shared root keys', { S3V_ROOT_ACCESS_KEY_ID: '', S3V_ROOT_SECRET_ACCESS_KEY: '' }, /same S3V_ROOT_ACCESS_KEY_ID/],
    ['an external catalog on local storage', { S3V_STORAGE_URI: '' }, /set S3V_STORAGE_URI to s3\+ddb:\/\//],
  ];
  test.each(cases)('%s', async (_name, change, message) => {
    const env = { ...backend.env, ...change };
    if (change.S3V_STORAGE_OPTIONS === '__WRONG_KEYS__') {
      env.S3V_STORAGE_OPTIONS = JSON.stringify({ ...JSON.parse(backend.env.S3V_STORAGE_OPTIONS), aws_access_key_id: 'NOSUCHKEY', aws_secret_access_key: 'x' });
    }
    const run = await runScript('server.ts', ['--port', '0', '--data-dir', dataDir()], env);
    expect(run.code).toBe(5);
    expect(oneLine(run.stderr)).toEqual([expect.stringMatching(message)]);
  });

  test('setup-storage on an unreachable catalog: one line, exit 5', async () => {
    const run = await runScript('setup-storage.ts', [], { ...backend.env, S3V_DYNAMODB_ENDPOINT: 'http://127.0.0.1:1' });
    expect(run.code).toBe(5);
    expect(oneLine(run.stderr)).toEqual([expect.stringMatching(/^error: cannot reach the catalog table/)]);
  });
});

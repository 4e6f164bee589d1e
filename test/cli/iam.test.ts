// `npm run iam`: spawned as a separate process against a temporary data directory, with the server
// stopped (the CLI opens the catalog files) and running (the CLI uses its published endpoint); the
// users it makes then call the server with their keys and are limited by their policies.
import {
  CreateVectorBucketCommand,
  GetVectorBucketCommand,
  ListVectorBucketsCommand,
  type S3VectorsClient,
} from '@aws-sdk/client-s3vectors';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { serviceConfigFromEnv } from '../../lambdas/core/config';
import { CATALOG_ENDPOINT_FILE, readLiveCatalogEndpoint, writeCatalogEndpoint } from '../../lambdas/local/catalog-endpoint';
import { startLocalService, type LocalService } from '../../lambdas/local/local-service';
import { ACCOUNT, REGION, TEST_CREDENTIALS, clientFor, expectAwsError } from '../helpers/service';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function iam(dataDir: string, ...args: string[]): Promise<CliResult> {
  try {
    const out = await run(TSX, ['bin/iam.ts', ...args, '--data-dir', dataDir], {
      cwd: ROOT,
      env: { ...process.env, S3V_ACCOUNT_ID: ACCOUNT, S3V_LOG_LEVEL: 'info', NODE_ENV: 'production' },
      timeout: 30_000,
    });
    return { code: 0, stdout: out.stdout, stderr: out.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

async function iamOk(dataDir: string, ...args: string[]): Promise<string> {
  const r = await iam(dataDir, ...args);
  if (r.code !== 0) throw new Error(`iam ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const READ_ONLY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['s3vectors:Get*', 's3vectors:List*', 's3vectors:QueryVectors'], Resource: '*' }],
};

let dataDir: string;
let service: LocalService | undefined;
const clients: S3VectorsClient[] = [];

function startServer(): Promise<LocalService> {
  return startLocalService({
    dataDir,
    config: serviceConfigFromEnv({ S3V_REGION: REGION, S3V_ACCOUNT_ID: ACCOUNT }),
    inMemoryCatalog: false,
    auth: { root: TEST_CREDENTIALS, decisionCacheMs: 0 },
  });
}

function userClient(key: { accessKeyId: string; secretAccessKey: string }, url: string): S3VectorsClient {
  const c = clientFor(url, key);
  clients.push(c);
  return c;
}

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 's3v-iam-'));
  writeFileSync(join(dataDir, 'read-only.json'), JSON.stringify(READ_ONLY));
  writeFileSync(join(dataDir, 'bad.json'), JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3vectors:*' }] }));
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await service?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm run iam, server stopped: the CLI opens the catalog itself', () => {
  let key: { accessKeyId: string; secretAccessKey: string };

  it('creates a user, an access key (shown once) and attaches a policy file', async () => {
    expect(await iamOk(dataDir, 'create-user', 'reader')).toContain(`arn:aws:iam::${ACCOUNT}:user/reader`);
    const created = await iam(dataDir, 'create-access-key', 'reader', '--json');
    expect(created.code).toBe(0);
    key = JSON.parse(created.stdout);
    expect(key).toMatchObject({ userName: 'reader', accessKeyId: expect.stringMatching(/^AKIA[A-Z2-7]{16}$/), secretAccessKey: expect.any(String) });
    expect(created.stderr).not.toContain(key.secretAccessKey);
    expect(await iamOk(dataDir, 'attach-policy', 'reader', 'read-only', join(dataDir, 'read-only.json'))).toContain('Attached policy read-only');
  });

  it('lists users with their policies, and never their secrets', async () => {
    const listed = await iam(dataDir, 'list-users', '--json');
    expect(JSON.parse(listed.stdout).users).toEqual([
      expect.objectContaining({ userName: 'reader', arn: `arn:aws:iam::${ACCOUNT}:user/reader`, enabled: true, policies: ['read-only'] }),
    ]);
    const human = await iamOk(dataDir, 'list-users');
    expect(human).toMatch(/^reader\tenabled\t.*policies: read-only/);
    for (const text of [listed.stdout, listed.stderr, human]) expect(text).not.toContain(key.secretAccessKey);
  });

  it('rejects bad input with a message and exit code 1', async () => {
    const duplicate = await iam(dataDir, 'create-user', 'reader');
    expect(duplicate).toMatchObject({ code: 1, stderr: expect.stringContaining('User reader already exists.') });
    const invalid = await iam(dataDir, 'attach-policy', 'reader', 'bad', join(dataDir, 'bad.json'));
    expect(invalid).toMatchObject({ code: 1, stderr: expect.stringMatching(/Resource or NotResource is required/) });
    const missing = await iam(dataDir, 'attach-policy', 'nobody', 'p', join(dataDir, 'read-only.json'));
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('User nobody does not exist.') });
    const usage = await iam(dataDir, 'frobnicate');
    expect(usage).toMatchObject({ code: 1, stderr: expect.stringContaining("unknown command 'frobnicate'") });
  });

  it('the server then lets the user in with its key, limited to its read-only policy', async () => {
    service = await startServer();
    const root = userClient(TEST_CREDENTIALS, service.url);
    await root.send(new CreateVectorBucketCommand({ vectorBucketName: 'shared' }));
    const reader = userClient(key, service.url);
    expect((await reader.send(new ListVectorBucketsCommand({}))).vectorBuckets?.map((b) => b.vectorBucketName)).toEqual(['shared']);
    expect((await reader.send(new GetVectorBucketCommand({ vectorBucketName: 'shared' }))).vectorBucket?.vectorBucketName).toBe('shared');
    const e = await expectAwsError(reader.send(new CreateVectorBucketCommand({ vectorBucketName: 'mine' })), 'AccessDeniedException', 403);
    expect(e.message).toContain(`arn:aws:iam::${ACCOUNT}:user/reader is not authorized to perform: s3vectors:CreateVectorBucket`);
  });
});

describe('npm run iam, server running: the CLI goes through its published catalog endpoint', () => {
  let url: string;
  beforeAll(async () => {
    service ??= await startServer();
    url = service.url;
    expect(existsSync(join(dataDir, CATALOG_ENDPOINT_FILE))).toBe(true);
    // A Unix socket in a 0700 folder, not a port any local process could reach.
    expect(await readLiveCatalogEndpoint(dataDir)).toEqual({ socketPath: join(dataDir, 'run', 'catalog.sock') });
  });

  it('a user created while the server runs works at once; disable, enable and delete take effect at once', async () => {
    await iamOk(dataDir, 'create-user', 'writer');
    const key = JSON.parse(await iamOk(dataDir, 'create-access-key', 'writer', '--json'));
    writeFileSync(join(dataDir, 'writer.json'), JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3vectors:CreateVectorBucket', Resource: '*' }] }));
    await iamOk(dataDir, 'attach-policy', 'writer', 'create', join(dataDir, 'writer.json'));
    const writer = userClient(key, url);
    expect((await writer.send(new CreateVectorBucketCommand({ vectorBucketName: 'by-writer' }))).$metadata.httpStatusCode).toBe(200);
    await expectAwsError(writer.send(new ListVectorBucketsCommand({})), 'AccessDeniedException', 403);

    expect(await iamOk(dataDir, 'disable-user', 'writer')).toContain('Disabled user writer');
    await expectAwsError(writer.send(new CreateVectorBucketCommand({ vectorBucketName: 'by-writer-2' })), 'UnrecognizedClientException', 403);
    expect((await iam(dataDir, 'list-users')).stdout).toMatch(/^writer\tDISABLED/m);
    await iamOk(dataDir, 'enable-user', 'writer');
    expect((await writer.send(new CreateVectorBucketCommand({ vectorBucketName: 'by-writer-2' }))).$metadata.httpStatusCode).toBe(200);

    expect(await iamOk(dataDir, 'delete-user', 'writer')).toContain('Deleted user writer');
    await expectAwsError(writer.send(new CreateVectorBucketCommand({ vectorBucketName: 'by-writer-3' })), 'UnrecognizedClientException', 403);
    expect(JSON.parse(await iamOk(dataDir, 'list-users', '--json')).users.map((u: { userName: string }) => u.userName)).toEqual(['reader']);
  });

  it('falls back to the catalog files when the published endpoint is stale', async () => {
    await service!.close();
    service = undefined;
    writeCatalogEndpoint(dataDir, { socketPath: join(dataDir, 'run', 'gone.sock') }); // nothing answers there
    expect(await readLiveCatalogEndpoint(dataDir)).toBeUndefined();
    expect(await iamOk(dataDir, 'list-users')).toMatch(/^reader\tenabled/);
  });
});

// The console's door into the server: what it serves, that it shadows no API path, and that its
// status endpoint answers only a valid SigV4-signed GetIndex (the same rules as GetIndex itself).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { CreateIndexCommand, CreateVectorBucketCommand, PutVectorsCommand } from '@aws-sdk/client-s3vectors';
import { operations } from '../../lambdas/core/model';
import { runMaintenanceOnce } from '../../lambdas/maintenance/maintenance';
import { consoleFromEnv, isConsolePath } from '../../lambdas/console/route';
import { REGION, TEST_CREDENTIALS } from '../helpers/service';
import { startConsoleService } from './console-server';

type Server = Awaited<ReturnType<typeof startConsoleService>>;
let withConsole: Server;
let without: Server;
let open: Server;

beforeAll(async () => {
  [withConsole, without, open] = await Promise.all([startConsoleService(), startConsoleService({ console: false }), startConsoleService({ auth: false })]);
  await withConsole.client.send(new CreateVectorBucketCommand({ vectorBucketName: 'bk1' }));
  await withConsole.client.send(new CreateIndexCommand({ vectorBucketName: 'bk1', indexName: 'ix1', dataType: 'float32', dimension: 2, distanceMetric: 'cosine' }));
  await withConsole.client.send(
    new PutVectorsCommand({ vectorBucketName: 'bk1', indexName: 'ix1', vectors: [1, 2, 3].map((i) => ({ key: `k${i}`, data: { float32: [i, 1] } })) }),
  );
});

afterAll(async () => {
  await Promise.all([withConsole?.close(), without?.close(), open?.close()]);
});

async function signedPost(url: string, operation: string, body: string, path: string, credentials = TEST_CREDENTIALS) {
  const target = new URL(url);
  const signer = new SignatureV4({ service: 's3vectors', region: REGION, credentials, sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: target.protocol,
    hostname: target.hostname,
    port: Number(target.port),
    path: `/${operation}`,
    query: {},
    headers: { host: target.host, 'content-type': 'application/json' },
    body,
  });
  return fetch(`${url}${path}`, { method: 'POST', headers: signed.headers, body });
}

const STATUS = '/console/api/index-status';
const GET_I1 = JSON.stringify({ vectorBucketName: 'bk1', indexName: 'ix1' });

describe('no API path is shadowed', () => {
  const samplePath = (uri: string) => uri.replace(/\{[^}]+\}/g, encodeURIComponent('arn:aws:s3vectors:us-east-1:123456789012:bucket/console'));

  test('no operation lives under /console', () => {
    const uris = Object.values(operations).map((o) => o.http.requestUri);
    expect(uris.length).toBeGreaterThan(15);
    for (const uri of uris) expect({ uri, console: isConsolePath(samplePath(uri)) }).toEqual({ uri, console: false });
  });

  test('every operation answers the same with the console on and off', async () => {
    for (const operation of Object.values(operations)) {
      const path = samplePath(operation.http.requestUri);
      const [a, b] = await Promise.all(
        [withConsole, without].map((s) => fetch(`${s.url}${path}`, { method: operation.http.method, body: operation.http.method === 'GET' ? undefined : '{}' })),
      );
      expect({ path, status: a.status, type: a.headers.get('x-amzn-errortype') }).toEqual({ path, status: b.status, type: b.headers.get('x-amzn-errortype') });
      expect(a.status).toBe(403); // unsigned: the API's own answer, not the console's
    }
  });

  test('only /console and /console/... are the console: /consoles is still the API', async () => {
    const response = await fetch(`${withConsole.url}/consoles`);
    expect(response.status).toBe(404);
    expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
  });

  test('S3V_CONSOLE=off leaves the console out', () => {
    expect(consoleFromEnv({ deps: withConsole.service.deps }, { S3V_CONSOLE: 'off' })).toBeUndefined();
    expect(consoleFromEnv({ deps: withConsole.service.deps }, {})).toBeDefined();
  });

  test('without the console, /console is the API 404', async () => {
    const response = await fetch(`${without.url}/console`);
    expect(response.status).toBe(404);
    expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
  });
});

describe('what the console serves', () => {
  test('the app, its script and its settings, with a strict content security policy', async () => {
    const page = await fetch(`${withConsole.url}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('set-cookie')).toBeNull();
    expect(await page.text()).toContain('/console/app.js');
    const script = await fetch(`${withConsole.url}/console/app.js`);
    expect(script.headers.get('content-type')).toContain('javascript');
    expect((await script.text()).length).toBeGreaterThan(10_000);
    expect(await (await fetch(`${withConsole.url}/console/settings.json`)).json()).toEqual({ region: REGION, auth: true });
    expect(await (await fetch(`${open.url}/console/settings.json`)).json()).toEqual({ region: REGION, auth: false });
  });

  test('a missing bundle is built on the first request', async () => {
    const bundleDir = join(mkdtempSync(join(tmpdir(), 's3v-console-bundle-')), 'console');
    const fresh = await startConsoleService({ bundleDir });
    try {
      expect(existsSync(join(bundleDir, 'app.js'))).toBe(false);
      const [page, script] = await Promise.all([fetch(`${fresh.url}/console`), fetch(`${fresh.url}/console/app.js`)]);
      expect([page.status, script.status]).toEqual([200, 200]);
      expect(await script.text()).toContain('/console/settings.json');
      expect(existsSync(join(bundleDir, 'app.js'))).toBe(true);
    } finally {
      await fresh.close();
      rmSync(dirname(bundleDir), { recursive: true, force: true });
    }
  });

  test('unknown console paths are 404 and other methods 405', async () => {
    expect((await fetch(`${withConsole.url}/console/nope.js`)).status).toBe(404);
    expect((await fetch(`${withConsole.url}/console`, { method: 'POST', body: '{}' })).status).toBe(405);
    expect((await fetch(`${withConsole.url}${STATUS}`)).status).toBe(405);
  });
});

describe('the status endpoint', () => {
  test('a signed GetIndex gets the index and its figures', async () => {
    const response = await signedPost(withConsole.url, 'GetIndex', GET_I1, STATUS);
    expect(response.status).toBe(200);
    const body = (await response.json()) as any;
    expect(body.index).toMatchObject({ vectorBucketName: 'bk1', indexName: 'ix1', dimension: 2 });
    expect(body.figures).toMatchObject({ rows: 3, indexedRows: null, fragments: 1, lastRun: null });
    expect(typeof body.figures.annThresholdRows).toBe('number');
  });

  test('after a maintenance run the figures show it', async () => {
    await runMaintenanceOnce(withConsole.service.deps, { catchUp: true });
    const body = (await (await signedPost(withConsole.url, 'GetIndex', GET_I1, STATUS)).json()) as any;
    expect(body.figures.rows).toBe(3);
    expect(body.figures.lastRun).toMatchObject({ lastOutcome: 'ok' });
    expect(typeof body.figures.lastRun.lastRunAt).toBe('number');
  });

  test('unsigned, signed with a wrong secret, or signed for another operation: 403', async () => {
    const unsigned = await fetch(`${withConsole.url}${STATUS}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: GET_I1 });
    expect(unsigned.status).toBe(403);
    const wrong = await signedPost(withConsole.url, 'GetIndex', GET_I1, STATUS, { ...TEST_CREDENTIALS, secretAccessKey: 'wrong' });
    expect(wrong.status).toBe(403);
    expect(wrong.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException');
    const other = await signedPost(withConsole.url, 'ListIndexes', GET_I1, STATUS);
    expect(other.status).toBe(403);
    expect(other.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException');
    const unknownKey = await signedPost(withConsole.url, 'GetIndex', GET_I1, STATUS, { accessKeyId: 'AKIDNOBODY0000000000', secretAccessKey: 'x' });
    expect(unknownKey.status).toBe(403);
    for (const r of [unsigned, wrong, other, unknownKey]) expect(JSON.stringify(await r.json())).not.toContain('figures');
  });

  test("GetIndex's own errors come back unchanged", async () => {
    const missing = await signedPost(withConsole.url, 'GetIndex', JSON.stringify({ vectorBucketName: 'bk1', indexName: 'nope-index' }), STATUS);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-amzn-errortype')).toBe('NotFoundException');
    const invalid = await signedPost(withConsole.url, 'GetIndex', JSON.stringify({ vectorBucketName: 'bk1' }), STATUS);
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('x-amzn-errortype')).toBe('ValidationException');
    const tooBig = await signedPost(withConsole.url, 'GetIndex', JSON.stringify({ vectorBucketName: 'bk1', indexName: 'ix1', pad: 'x'.repeat(70_000) }), STATUS);
    expect(tooBig.status).toBe(413);
  });

  test('a user allowed ListIndexes but not GetIndex is denied the figures', async () => {
    const identities = withConsole.service.identities;
    await identities.createUser('lister');
    const key = await identities.createAccessKey('lister');
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3vectors:ListIndexes'], Resource: '*' }] };
    await identities.attachPolicy('lister', 'list-only', JSON.stringify(policy));
    const credentials = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
    const denied = await signedPost(withConsole.url, 'GetIndex', GET_I1, STATUS, credentials);
    expect(denied.status).toBe(403);
    expect(denied.headers.get('x-amzn-errortype')).toBe('AccessDeniedException');
    expect(JSON.stringify(await denied.json())).toContain('s3vectors:GetIndex');
    await identities.attachPolicy('lister', 'get-index', JSON.stringify({ ...policy, Statement: [{ ...policy.Statement[0], Action: ['s3vectors:GetIndex'] }] }));
    // Decisions are cached for a few seconds by the same decider the API uses; wait it out.
    let allowed = await signedPost(withConsole.url, 'GetIndex', GET_I1, STATUS, credentials);
    for (const until = Date.now() + 60_000; allowed.status !== 200 && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 250));
      allowed = await signedPost(withConsole.url, 'GetIndex', GET_I1, STATUS, credentials);
    }
    expect(allowed.status).toBe(200);
  });

  test('with authentication off it needs no signature', async () => {
    await open.client.send(new CreateVectorBucketCommand({ vectorBucketName: 'bk1' }));
    await open.client.send(new CreateIndexCommand({ vectorBucketName: 'bk1', indexName: 'ix1', dataType: 'float32', dimension: 2, distanceMetric: 'cosine' }));
    const response = await fetch(`${open.url}${STATUS}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: GET_I1 });
    expect(response.status).toBe(200);
    expect(((await response.json()) as any).figures).toMatchObject({ rows: 0, nextDue: null });
  });
});

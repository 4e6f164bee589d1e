// The npm package as a user gets it: `npm pack`, install the tarball into an empty folder from the
// registry, run its `open-s3vectors` command and its programmatic API, talk to both with the SDK.
import { CreateIndexCommand, CreateVectorBucketCommand, PutVectorsCommand, QueryVectorsCommand, S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { DockerfileParser } from 'dockerfile-ast';
import { createServer, type AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const KEYS = { accessKeyId: 'AKIDPACKAGETEST00000', secretAccessKey: 'package-test-secret-000000000000000000' };
let work: string;
let installDir: string;
let packed: { filename: string; unpackedSize: number; files: { path: string }[] };

jest.setTimeout(300_000);

// The tarball is built as the Dockerfile's build stage builds it (only the files it COPYs, then its
// `npm pack`), and installed as its final stage installs it, so the image's recipe is checked too.
const dockerfile = DockerfileParser.parse(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const [buildStage, finalStage] = stages();

function stages(): { keyword: string; args: string[] }[][] {
  const result: { keyword: string; args: string[] }[][] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') result.push([]);
    result[result.length - 1].push({ keyword: instruction.getKeyword(), args: instruction.getArguments().map((a) => a.getValue()) });
  }
  return result;
}

function env(stage: { keyword: string; args: string[] }[]): Record<string, string> {
  return Object.fromEntries(stage.filter((i) => i.keyword === 'ENV').flatMap((i) => i.args.map((a) => a.split('=') as [string, string])));
}

function execForm(stage: { keyword: string; args: string[] }[], keyword: string): string[] {
  const instruction = stage.find((i) => i.keyword === keyword)!;
  const json = instruction.args.join(' ');
  return JSON.parse(json.slice(json.indexOf('[')));
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 's3v-package-'));
  const src = join(work, 'src');
  mkdirSync(src);
  for (const copy of buildStage.filter((i) => i.keyword === 'COPY')) {
    for (const from of copy.args.slice(0, -1)) cpSync(join(ROOT, from), join(src, from), { recursive: true });
  }
  const runs = buildStage.filter((i) => i.keyword === 'RUN').map((i) => i.args.join(' '));
  expect(runs).toEqual(['npm ci --no-audit --no-fund', 'npm pack --pack-destination /pkg']);
  // `npm ci` from the same lockfile is what the repository's node_modules already is.
  symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: src, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  packed = JSON.parse(out.slice(out.indexOf('[')))[0];
  installDir = join(work, 'app');
  mkdirSync(installDir);
  writeFileSync(join(installDir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  execFileSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error', join(work, packed.filename)], { cwd: installDir, stdio: 'inherit' });
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

async function smoke(client: S3VectorsClient): Promise<string[]> {
  await client.send(new CreateVectorBucketCommand({ vectorBucketName: 'pkg' }));
  await client.send(new CreateIndexCommand({ vectorBucketName: 'pkg', indexName: 'idx', dataType: 'float32', dimension: 2, distanceMetric: 'euclidean' }));
  await client.send(new PutVectorsCommand({ vectorBucketName: 'pkg', indexName: 'idx', vectors: [
    { key: 'near', data: { float32: [1, 0] } },
    { key: 'far', data: { float32: [9, 9] } },
  ] }));
  const { vectors } = await client.send(new QueryVectorsCommand({ vectorBucketName: 'pkg', indexName: 'idx', topK: 2, queryVector: { float32: [1, 0.1] } }));
  return (vectors ?? []).map((v) => v.key!);
}

/** A port nothing listens on now (the image's port is fixed, so the test picks one for the host). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** SIGTERM, then the exit code (at once if it already exited). */
function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = seen.match(pattern);
      if (match) resolve(match);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before ${pattern}: ${seen}`)));
  });
}

test('ships compiled JavaScript and nothing of the repository besides', () => {
  const paths = packed.files.map((f) => f.path).sort();
  expect(paths).toEqual(expect.arrayContaining(['dist/cli.js', 'dist/index.js', 'dist/worker.js', 'dist/types/embed/index.d.ts', 'package.json', 'README.md']));
  expect(paths.filter((p) => /^(test|bench|lib|lambdas|bin|vendor|cdk)\b|\.ts$/.test(p) && !p.endsWith('.d.ts'))).toEqual([]);
  // Reported for the closing note: the package's own files, without its dependencies.
  console.log(`open-s3vectors package: ${paths.length} files, ${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked`);
});

test('the installed command serves the API, prints --version, and stops on SIGTERM', async () => {
  const bin = join(installDir, 'node_modules', '.bin', 'open-s3vectors');
  expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toBe(require('../../package.json').version);
  expect(execFileSync(bin, ['--help'], { encoding: 'utf8' })).toContain('S3V_MAX_VECTORS_PER_PUT');
  const child = spawn(bin, ['--port', '0', '--data-dir', join(work, 'data')], {
    env: { ...process.env, S3V_ROOT_ACCESS_KEY_ID: KEYS.accessKeyId, S3V_ROOT_SECRET_ACCESS_KEY: KEYS.secretAccessKey, S3V_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const [, url] = await waitForLine(child, /listening on (http:\/\/\S+)/);
    const client = new S3VectorsClient({ endpoint: url, region: 'us-east-1', credentials: KEYS, maxAttempts: 1 });
    expect(await smoke(client)).toEqual(['near', 'far']);
    // The console ships prebuilt in the package.
    const page = await fetch(`${url}/console/`);
    expect([page.status, page.headers.get('content-type')]).toEqual([200, expect.stringContaining('text/html')]);
    client.destroy();
  } finally {
    expect(await stop(child)).toBe(0);
  }
  expect(stderr).not.toMatch(/NodeVersionSupportWarning/);
});

test('the installed programmatic API starts isolated servers and removes their temp data', () => {
  const script = `
    const { startS3Vectors } = require('open-s3vectors');
    const { ListVectorBucketsCommand, CreateVectorBucketCommand } = require('@aws-sdk/client-s3vectors');
    const { existsSync } = require('node:fs');
    (async () => {
      const a = await startS3Vectors();
      const b = await startS3Vectors({ auth: false });
      await a.client().send(new CreateVectorBucketCommand({ vectorBucketName: 'only-in-a' }));
      const inA = (await a.client().send(new ListVectorBucketsCommand({}))).vectorBuckets.length;
      const inB = (await b.client().send(new ListVectorBucketsCommand({}))).vectorBuckets.length;
      const dir = a.dataDir;
      await a.stop(); await b.stop();
      console.log(JSON.stringify({ inA, inB, differentPorts: a.endpoint !== b.endpoint, removed: !existsSync(dir) }));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const out = execFileSync(process.execPath, ['-e', script], { cwd: installDir, encoding: 'utf8', env: { ...process.env, S3V_LOG_LEVEL: 'warn' } });
  expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ inA: 1, inB: 0, differentPorts: true, removed: true });
});

test('the installed package builds indexes in its maintenance worker process (dist/worker.js), not in the server', () => {
  const script = `
    const { startS3Vectors } = require('open-s3vectors');
    const { CreateVectorBucketCommand, CreateIndexCommand, PutVectorsCommand } = require('@aws-sdk/client-s3vectors');
    (async () => {
      const s = await startS3Vectors({ maintenance: { annMinRows: 256 } });
      const c = s.client();
      await c.send(new CreateVectorBucketCommand({ vectorBucketName: 'wbucket' }));
      await c.send(new CreateIndexCommand({ vectorBucketName: 'wbucket', indexName: 'idx', dataType: 'float32', dimension: 4, distanceMetric: 'euclidean' }));
      const vectors = Array.from({ length: 300 }, (_, i) => ({ key: 'k' + i, data: { float32: [i, 1, 2, 3] } }));
      await c.send(new PutVectorsCommand({ vectorBucketName: 'wbucket', indexName: 'idx', vectors }));
      await s.runMaintenance();
      await s.stop();
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const out = execFileSync(process.execPath, ['-e', script], { cwd: installDir, encoding: 'utf8', env: { ...process.env, S3V_LOG_LEVEL: 'info' } });
  expect(out).toContain('"event":"maintenance.worker-started"');
  expect(out).not.toContain('worker-unavailable');
});

test('the types of the programmatic API compile in a consumer', () => {
  writeFileSync(
    join(installDir, 'consumer.ts'),
    `import { startS3Vectors, type S3VectorsServer } from 'open-s3vectors';
     async function run(): Promise<string> { const s: S3VectorsServer = await startS3Vectors({ port: 0, maintenance: { annMinRows: 256 } }); await s.stop(); return s.endpoint; }
     void run;`,
  );
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'commonjs', '--moduleResolution', 'node', '--target', 'es2022',
    '--typeRoots', join(ROOT, 'node_modules', '@types'), '--types', 'node', 'consumer.ts'], { cwd: installDir, stdio: 'inherit' });
});

test('the image runs its entry command as a non-root user with data in a volume, and its health check calls the API', async () => {
  expect(finalStage.find((i) => i.keyword === 'USER')?.args).toEqual(['node']);
  expect(finalStage.find((i) => i.keyword === 'EXPOSE')?.args).toEqual(['8000']);
  const imageEnv = env(finalStage);
  expect(imageEnv).toMatchObject({ S3V_HOST: '0.0.0.0', S3V_PORT: '8000', S3V_DATA_DIR: '/data' });
  expect(JSON.parse(finalStage.find((i) => i.keyword === 'VOLUME')!.args.join(' '))).toEqual([imageEnv.S3V_DATA_DIR]);
  // The image's paths on this host: /app is the install folder, /data a temp folder, the port a free one.
  const onHost = (path: string) => path.replace(/^\/app\//, `${installDir}/`);
  const entry = execForm(finalStage, 'ENTRYPOINT').map(onHost);
  const health = execForm(finalStage, 'HEALTHCHECK').map(onHost);
  const port = String(await freePort());
  const hostEnv: NodeJS.ProcessEnv = { ...process.env, ...imageEnv, S3V_PORT: port, S3V_DATA_DIR: join(work, 'volume'), S3V_LOG_LEVEL: 'warn' };
  delete hostEnv.S3V_ROOT_ACCESS_KEY_ID;
  delete hostEnv.S3V_ROOT_SECRET_ACCESS_KEY;
  mkdirSync(hostEnv.S3V_DATA_DIR!);
  // Unhealthy while nothing listens.
  expect(() => execFileSync(health[0], health.slice(1), { env: hostEnv, stdio: 'pipe' })).toThrow();
  const child = spawn(entry[0], entry.slice(1), { env: hostEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await waitForLine(child, /listening on/);
    // Authentication is on (generated root key in the volume): the check signs with it and passes.
    execFileSync(health[0], health.slice(1), { env: hostEnv, stdio: 'pipe' });
  } finally {
    await stop(child);
  }
  // Without authentication the server refuses the image's non-loopback address.
  const refused = spawn(entry[0], entry.slice(1), { env: { ...hostEnv, S3V_AUTH: 'off' }, stdio: 'pipe' });
  expect(await new Promise((resolve) => refused.once('exit', resolve))).not.toBe(0);
});

test('compose runs the image with its port on loopback and data in a named volume', () => {
  const compose = parseYaml(readFileSync(join(ROOT, 'compose.yaml'), 'utf8'));
  const service = compose.services.s3vectors;
  expect(service.build).toBe('.');
  expect(service.ports).toEqual(['127.0.0.1:8000:8000']);
  expect(service.volumes).toEqual([`s3v-data:${env(finalStage).S3V_DATA_DIR}`]);
  expect(Object.keys(compose.volumes)).toEqual(['s3v-data']);
});

test('the cluster compose file runs three servers on one MinIO + DynamoDB Local backend behind a load balancer', () => {
  const compose = parseYaml(readFileSync(join(ROOT, 'compose.cluster.yaml'), 'utf8'), { merge: true });
  const servers = Object.keys(compose.services).filter((name) => name.startsWith('s3vectors-'));
  expect(servers).toHaveLength(3);
  for (const name of [...servers, 'setup']) {
    // The cluster mode's configuration names, exactly as the server reads them.
    expect(Object.keys(compose.services[name].environment)).toEqual(
      expect.arrayContaining(['S3V_STORAGE_URI', 'S3V_STORAGE_OPTIONS', 'S3V_DYNAMODB_ENDPOINT', 'S3V_SECRET_KEY_FILE', 'S3V_ROOT_ACCESS_KEY_ID', 'S3V_ROOT_SECRET_ACCESS_KEY']),
    );
    expect(compose.services[name].environment.S3V_STORAGE_URI).toMatch(/^s3\+ddb:\/\/vectors\/.*ddbTableName=/);
  }
  expect(compose.services.setup.command).toEqual(['setup-storage']);
  for (const name of servers) expect(compose.services[name].depends_on.setup.condition).toBe('service_completed_successfully');
  const upstream = compose.configs.nginx.content as string;
  for (const name of servers) expect(upstream).toContain(`${name}:8000`);
  expect(compose.services.lb.ports).toEqual(['127.0.0.1:8000:8000']);
});

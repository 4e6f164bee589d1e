// A data directory another local user owns (one they made in /tmp or a shared folder, for the
// server's user to be pointed at) is refused before anything is read from or written to it: its
// owner can chmod it back to 0755, read what we would write there, or plant a root-credentials.json
// (or a secret.key) they know, which would give them the root user of the API.
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, TSX, spawnServer } from './sec-process';

const run = promisify(execFile);
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
let base: string;

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 's3v-owner-'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

async function startExit(dataDir: string): Promise<{ code: number | string; output: string }> {
  const p = spawnServer(dataDir);
  // A server that starts anyway is stopped (SIGTERM: it exits 0 and cleans up), and the test fails.
  const started = setInterval(() => /listening on/.test(p.output()) && p.child.kill('SIGTERM'), 100);
  const code = await p.exited;
  clearInterval(started);
  return { code, output: p.output() };
}

(asRoot ? test : test.skip)('a data directory owned by another user is refused (exit 4), nothing is written into it', async () => {
  const dataDir = join(base, 'theirs');
  mkdirSync(dataDir, { mode: 0o755 });
  chownSync(dataDir, NOBODY, NOBODY);
  const { code, output } = await startExit(dataDir);
  expect(output).toMatch(/belongs to another user \(uid 65534/);
  expect(code).toBe(4);
  expect(existsSync(join(dataDir, 'root-credentials.json'))).toBe(false);
  expect(existsSync(join(dataDir, 'secret.key'))).toBe(false);
}, 90_000);

(asRoot ? test : test.skip)('a root-credentials.json planted by another user is not used', async () => {
  const dataDir = join(base, 'planted');
  mkdirSync(dataDir, { mode: 0o700 });
  const planted = join(dataDir, 'root-credentials.json');
  writeFileSync(planted, JSON.stringify({ accessKeyId: 'AKIAPLANTED000000000', secretAccessKey: 'known-to-the-attacker' }));
  chownSync(planted, NOBODY, NOBODY);
  const { code, output } = await startExit(dataDir);
  expect(output).toMatch(/root-credentials\.json in the data directory belongs to another user/);
  expect(output).not.toMatch(/listening on/);
  expect(code).toBe(4);
}, 90_000);

(asRoot ? test : test.skip)('npm run iam refuses a data directory another user owns (their secret.key would seal our secrets)', async () => {
  const dataDir = join(base, 'iam-theirs');
  mkdirSync(dataDir, { mode: 0o755 });
  writeFileSync(join(dataDir, 'secret.key'), `${Buffer.alloc(32, 7).toString('base64')}\n`);
  chownSync(dataDir, NOBODY, NOBODY);
  const failed = await run(TSX, ['bin/iam.ts', 'create-user', 'alice', '--data-dir', dataDir], { cwd: ROOT }).then(
    () => undefined,
    (e: { stderr: string; code: number }) => e,
  );
  expect(failed?.stderr).toMatch(/belongs to another user/);
  expect(failed?.code).not.toBe(0);
  expect(existsSync(join(dataDir, 'catalog'))).toBe(false);
}, 90_000);

(asRoot ? test : test.skip)('npm run iam / status as another user say the data directory is closed to them, not that it is missing', async () => {
  const dataDir = join(base, 'mine');
  mkdirSync(dataDir, { mode: 0o700 });
  // base is 0700 (mkdtemp): open the way to dataDir so only dataDir's own mode stops nobody.
  chmodSync(base, 0o711);
  for (const args of [['bin/iam.ts', 'list-users'], ['bin/status.ts']]) {
    const failed = await run('runuser', ['-u', 'nobody', '--', TSX, ...args, '--data-dir', dataDir], { cwd: ROOT, env: { ...process.env, HOME: tmpdir() } }).then(
      () => undefined,
      (e: { stderr: string; code: number }) => e,
    );
    expect(failed?.stderr).toMatch(/is not open to this user \(EACCES\)/);
    expect(failed?.code).not.toBe(0);
  }
}, 90_000);

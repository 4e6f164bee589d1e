// One `cdk synth` of the real assets per state of the sources, shared by the tests that read them
// (test/cdk/bundles.test.ts, test/licence/licences.test.ts): the first caller synthesizes into a
// folder named by a hash of everything the assets are built from, any other caller (another jest
// worker at the same time, or a later run) waits for it and reads the same folder.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const INPUTS = ['bin', 'lib', 'lambdas', 'package-lock.json', 'cdk.json', 'tsconfig.json'];
const STALE_MS = 6 * 3600_000;

export interface Synthesized {
  outdir: string;
  /** Seconds the synth took, or 0 when an earlier synth of the same sources was reused. */
  seconds: number;
  withOptimize: boolean;
}

function hashInputs(hash: ReturnType<typeof createHash>, path: string): void {
  if (!existsSync(path)) return;
  const st = statSync(path);
  if (st.isDirectory()) {
    for (const entry of readdirSync(path).sort()) hashInputs(hash, join(path, entry));
  } else {
    hash.update(path.slice(ROOT.length)).update('\0').update(readFileSync(path)).update('\0');
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function synth(outdir: string, withOptimize: boolean): void {
  const home = mkdtempSync(join(tmpdir(), 'no-aws-home-'));
  // No credentials, no config, no network: strip every AWS_* / CDK_* variable and point HOME at
  // an empty folder so ~/.aws is not read either.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|CDK_)/.test(k)));
  const args = ['cdk', 'synth', '--quiet', '--no-notices', '--no-version-reporting', '--output', outdir, ...(withOptimize ? [] : ['-c', 'optimize=false'])];
  const result = spawnSync('npx', args, { cwd: ROOT, env: { ...env, HOME: home, CI: 'true' }, encoding: 'utf8', timeout: 240_000 });
  rmSync(home, { recursive: true, force: true });
  if (result.status !== 0) throw new Error(`cdk synth failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
}

/** The synthesized cloud assembly of the current sources (synthesizing it if no caller has yet). */
export async function synthesizedAssets(withOptimize: boolean): Promise<Synthesized> {
  const hash = createHash('sha256').update(String(withOptimize));
  for (const input of INPUTS) hashInputs(hash, join(ROOT, input));
  const base = join(tmpdir(), 'open-s3vectors-synth');
  mkdirSync(base, { recursive: true });
  const key = hash.digest('hex').slice(0, 16);
  const outdir = join(base, key);
  const lock = `${outdir}.lock`;
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (existsSync(join(outdir, '.complete'))) return { outdir, seconds: 0, withOptimize };
    try {
      mkdirSync(lock);
    } catch {
      // Someone else is synthesizing these sources: wait, unless they died.
      const owner = Number(existsSync(join(lock, 'pid')) ? readFileSync(join(lock, 'pid'), 'utf8') : 0);
      if (owner && !alive(owner)) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for another cdk synth (${lock})`);
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    writeFileSync(join(lock, 'pid'), String(process.pid));
    try {
      // Old synths of other source states, left long ago, are removed (never one that may be in use).
      for (const entry of readdirSync(base)) {
        const path = join(base, entry);
        if (path !== outdir && !entry.endsWith('.lock') && Date.now() - statSync(path).mtimeMs > STALE_MS) rmSync(path, { recursive: true, force: true });
      }
      const building = `${outdir}.${process.pid}.tmp`;
      rmSync(building, { recursive: true, force: true });
      const started = Date.now();
      synth(building, withOptimize);
      writeFileSync(join(building, '.complete'), new Date().toISOString());
      rmSync(outdir, { recursive: true, force: true });
      renameSync(building, outdir);
      return { outdir, seconds: (Date.now() - started) / 1000, withOptimize };
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

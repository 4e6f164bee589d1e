// A shared backend for several server processes: s3rver (the bucket) and dynalite on a loopback
// port (the catalog and Lance's commit table), both in the test process; servers spawned as real
// processes (`node --import tsx bin/server.ts`) configured only through the S3V_* variables.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDynalite } from '../../lambdas/local/dynalite';
import { startS3rver } from '../helpers/s3rver';

export const ROOT = join(__dirname, '..', '..');
export const ROOT_KEYS = { accessKeyId: 'AKIDCLUSTERROOT00000', secretAccessKey: 'cluster-root-secret-0000000000000000000' };

export interface Backend {
  env: Record<string, string>;
  dir: string;
  /** s3rver's folder: one sub-folder per bucket. */
  s3Directory: string;
  close(): Promise<void>;
}

export async function startBackend(): Promise<Backend> {
  const s3 = await startS3rver(['vectors']);
  const dynamo = await startDynalite();
  const dir = mkdtempSync(join(tmpdir(), 's3v-cluster-'));
  const env = {
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
    S3V_STORAGE_URI: 's3+ddb://vectors/data?ddbTableName=commits',
    S3V_STORAGE_OPTIONS: JSON.stringify({ aws_endpoint: s3.endpoint, allow_http: 'true' }),
    S3V_DYNAMODB_ENDPOINT: dynamo.endpoint,
    S3V_CATALOG_TABLE: 'catalog',
    S3V_SECRET_KEY_FILE: join(dir, 'secret.key'),
    S3V_ROOT_ACCESS_KEY_ID: ROOT_KEYS.accessKeyId,
    S3V_ROOT_SECRET_ACCESS_KEY: ROOT_KEYS.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    S3V_LOG_LEVEL: 'warn',
  };
  return {
    env,
    dir,
    s3Directory: s3.directory,
    close: async () => {
      await s3.close();
      await dynamo.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a bin/ script to completion with `env` on top of this process's environment. */
export function runScript(script: string, args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bin', script), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

/** Spawns a server on a free port and resolves once it listens (rejects with its output if it exits). */
export function spawnServer(env: Record<string, string>, dataDir: string): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bin', 'server.ts'), '--port', '0', '--data-dir', dataDir], {
      cwd: ROOT,
      env: { ...process.env, S3V_CONSOLE: 'off', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/[0-9.:]+)/.exec(out);
      if (m) {
        resolve({
          url: m[1],
          child,
          output: () => out,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d) => (out += d));
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${out}`)));
  });
}

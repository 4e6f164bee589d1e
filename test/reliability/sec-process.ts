// The real `npm start` process (bin/server.ts through tsx) on a free port, for tests that need real
// signals, real file modes and real start-up output.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  exited: Promise<number | string>;
}

/**
 * As `npm start` runs it: node with tsx's loader. (Not the tsx CLI, whose signal relay SIGKILLs the
 * server when it has not acknowledged a SIGTERM/SIGINT within 2 × 30 ms: exit 130 on a loaded machine.)
 */
export function spawnServer(dataDir: string, env: Record<string, string> = {}, args: string[] = []): { child: ChildProcess; output(): string; exited: Promise<number | string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/server.ts', '--port', '0', '--data-dir', dataDir, ...args], {
    cwd: ROOT,
    env: { ...process.env, S3V_MAINT: 'off', S3V_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, output: () => out, exited };
}

/** Starts the server and waits for its "listening on" line. */
export async function startServerProcess(dataDir: string, env: Record<string, string> = {}, timeoutMs = 60_000): Promise<ServerProcess> {
  const p = spawnServer(dataDir, env);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${p.output()}`)), timeoutMs);
    const check = () => {
      const m = /listening on (http:\/\/[^\s]+)/.exec(p.output());
      // The credentials part follows the listening line: wait for it too.
      if (m && /Root credentials|AUTHENTICATION IS OFF/.test(p.output())) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    p.child.stdout!.on('data', check);
    p.exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`server exited: ${p.output()}`));
    });
  });
  return { ...p, url };
}

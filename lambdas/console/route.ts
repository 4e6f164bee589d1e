// The console's one door into the local server: GET /console (the app), its static files, its
// settings, and POST /console/api/index-status. Every API operation is POST /<Operation> or
// /tags/{arn}, so nothing under /console can shadow one (test/console/routes.test.ts checks).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Deps } from '../core/deps';
import type { PipelineSteps } from '../runtime/pipeline';
import { BUNDLE_DIR, buildConsole, bundlePresent } from './build';
import { STATUS_PATH, statusHandler } from './status';

export type ExtraRoute = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export interface ConsoleOptions {
  deps: Deps;
  /** The pipeline steps the API runs (authentication on when `authenticate` is set). */
  steps?: PipelineSteps;
  bundleDir?: string;
}

export const CONSOLE_PREFIX = '/console';
const STATUS_BODY_LIMIT = 64 * 1024;

const STATIC: Record<string, { file: string; type: string }> = {
  '/console': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/console/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

// The app only ever talks to its own origin; no framing, no inline script.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export function isConsolePath(rawPath: string): boolean {
  return rawPath === CONSOLE_PREFIX || rawPath.startsWith(`${CONSOLE_PREFIX}/`);
}

function reply(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

function readText(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolve(undefined);
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function consoleRoute(options: ConsoleOptions): ExtraRoute {
  const bundleDir = options.bundleDir ?? BUNDLE_DIR;
  const status = statusHandler(options.deps, options.steps);
  let building: Promise<void> | undefined;
  const ensureBundle = (): Promise<void> => {
    if (bundlePresent(bundleDir)) return Promise.resolve();
    building ??= buildConsole(bundleDir).finally(() => (building = undefined));
    return building;
  };
  const settings = JSON.stringify({ region: options.deps.config.region, auth: Boolean(options.steps?.authenticate) });

  return async (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    if (!isConsolePath(rawPath)) return false;
    const method = req.method ?? 'GET';
    try {
      if (rawPath === STATUS_PATH) {
        if (method !== 'POST') return reply(res, 405, 'text/plain', 'POST only', { allow: 'POST' }), true;
        const body = await readText(req, STATUS_BODY_LIMIT);
        if (body === undefined) return reply(res, 413, 'application/json', JSON.stringify({ message: 'Request body too large' }), { 'x-amzn-errortype': 'RequestEntityTooLargeException' }), true;
        const result = await status(req, body);
        reply(res, result.statusCode, 'application/json', result.body, result.headers as Record<string, string>);
        return true;
      }
      req.resume();
      if (method !== 'GET' && method !== 'HEAD') return reply(res, 405, 'text/plain', 'GET only', { allow: 'GET, HEAD' }), true;
      if (rawPath === '/console/settings.json') return reply(res, 200, 'application/json', settings), true;
      const file = STATIC[rawPath];
      if (!file) return reply(res, 404, 'text/plain', 'Not found'), true;
      await ensureBundle();
      const content = await readFile(join(bundleDir, file.file));
      if (method === 'HEAD') {
        res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': file.type, 'content-length': content.length });
        res.end();
      } else reply(res, 200, file.type, content);
      return true;
    } catch (error) {
      if (!res.headersSent) reply(res, 500, 'text/plain', `Console error: ${(error as Error).message}`);
      return true;
    }
  };
}

/** The console unless S3V_CONSOLE=off. */
export function consoleFromEnv(options: ConsoleOptions, env: NodeJS.ProcessEnv = process.env): ExtraRoute | undefined {
  return env.S3V_CONSOLE === 'off' ? undefined : consoleRoute(options);
}

// Binds a server (port 0: any free one) and resolves to the address it got; bounds its connections.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export async function listen(server: Server, port = 0, host = '127.0.0.1'): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server.address() as AddressInfo;
}

export interface HttpSettings {
  /** Open connections at most; past it an idle one is closed to make room (see limitConnections). */
  maxConnections: number;
  /** Time for a request's headers to arrive. */
  headersTimeoutMs: number;
  /** Time for a whole request to arrive: a 20 MiB body at 35 KB/s still fits in the default. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open (longer than the SDKs' idle sockets live). */
  keepAliveTimeoutMs: number;
}

/** The soft limit on open files (Linux), if it can be read. */
export function openFileLimit(limitsFile = '/proc/self/limits'): number | undefined {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync(limitsFile, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Half the open-file limit (the rest is for data files and the catalog), at most 10,000. */
export function defaultMaxConnections(fileLimit = openFileLimit()): number {
  return fileLimit === undefined ? 10_000 : Math.max(16, Math.min(10_000, Math.floor(fileLimit / 2)));
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number ≥ 1, got '${raw}'`);
  return value;
}

/** S3V_MAX_CONNECTIONS, S3V_HEADERS_TIMEOUT_MS, S3V_REQUEST_TIMEOUT_MS, S3V_KEEP_ALIVE_TIMEOUT_MS. */
export function httpSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): HttpSettings {
  return {
    maxConnections: positiveInt(env, 'S3V_MAX_CONNECTIONS', defaultMaxConnections()),
    headersTimeoutMs: positiveInt(env, 'S3V_HEADERS_TIMEOUT_MS', 60_000),
    requestTimeoutMs: positiveInt(env, 'S3V_REQUEST_TIMEOUT_MS', 600_000),
    keepAliveTimeoutMs: positiveInt(env, 'S3V_KEEP_ALIVE_TIMEOUT_MS', 65_000),
  };
}

/** The createServer options for these settings (Node checks headers against the request timeout). */
export function serverOptions(settings: HttpSettings): { headersTimeout: number; requestTimeout: number; keepAliveTimeout: number } {
  return {
    headersTimeout: Math.min(settings.headersTimeoutMs, settings.requestTimeoutMs),
    requestTimeout: settings.requestTimeoutMs,
    keepAliveTimeout: settings.keepAliveTimeoutMs,
  };
}

/**
 * Keeps at most `max` connections open. Node's own `server.maxConnections` would drop every
 * newcomer once idle connections fill the slots; here a newcomer closes one to make room: first a
 * connection that never sent a request (the oldest), else the keep-alive one idle the longest. A
 * newcomer is dropped only when every connection is busy with a request.
 */
export function limitConnections(server: Server, max: number): void {
  const open = new Set<Socket>();
  // Sets keep insertion order: the first is the oldest.
  const unused = new Set<Socket>();
  const idle = new Set<Socket>();
  const active = new Map<Socket, number>();
  const forget = (socket: Socket) => {
    open.delete(socket);
    unused.delete(socket);
    idle.delete(socket);
    active.delete(socket);
  };
  server.on('connection', (socket: Socket) => {
    if (open.size >= max) {
      const victim = unused.values().next().value ?? idle.values().next().value;
      if (victim === undefined) {
        socket.destroy();
        return;
      }
      forget(victim);
      victim.destroy();
    }
    open.add(socket);
    unused.add(socket);
    socket.once('close', () => forget(socket));
  });
  server.on('request', (req, res) => {
    const socket = req.socket;
    if (!open.has(socket)) return;
    unused.delete(socket);
    idle.delete(socket);
    active.set(socket, (active.get(socket) ?? 0) + 1);
    res.once('close', () => {
      if (!open.has(socket)) return;
      const left = (active.get(socket) ?? 1) - 1;
      if (left > 0) active.set(socket, left);
      else {
        active.delete(socket);
        idle.add(socket);
      }
    });
  });
}

// Binds a server (port 0: any free one) and resolves to the address it got; bounds its connections.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
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
  /** The slowest a request body may arrive, averaged since its headers, in bytes/s (0: no floor). */
  minBodyBytesPerSecond: number;
  /** How long a body may average below that floor before it is cut (at the limit, see limitConnections). */
  bodyRateGraceMs: number;
  /** Request-body bytes being received or handled at once, at most; past it a request is refused (503). */
  maxBodyBytesInFlight: number;
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

function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be a whole number ≥ ${min}, got '${raw}'`);
  return value;
}

/**
 * S3V_MAX_CONNECTIONS, S3V_HEADERS_TIMEOUT_MS, S3V_REQUEST_TIMEOUT_MS, S3V_KEEP_ALIVE_TIMEOUT_MS,
 * S3V_MIN_BODY_BYTES_PER_SECOND, S3V_BODY_RATE_GRACE_MS, S3V_MAX_BODY_BYTES_IN_FLIGHT.
 */
export function httpSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): HttpSettings {
  return {
    maxConnections: wholeNumber(env, 'S3V_MAX_CONNECTIONS', defaultMaxConnections()),
    headersTimeoutMs: wholeNumber(env, 'S3V_HEADERS_TIMEOUT_MS', 60_000),
    requestTimeoutMs: wholeNumber(env, 'S3V_REQUEST_TIMEOUT_MS', 600_000),
    keepAliveTimeoutMs: wholeNumber(env, 'S3V_KEEP_ALIVE_TIMEOUT_MS', 65_000),
    // 1 KiB/s is below any real link (dial-up is ~7 KB/s): only a body sent on purpose this slowly is cut.
    minBodyBytesPerSecond: wholeNumber(env, 'S3V_MIN_BODY_BYTES_PER_SECOND', 1024, 0),
    bodyRateGraceMs: wholeNumber(env, 'S3V_BODY_RATE_GRACE_MS', 10_000),
    maxBodyBytesInFlight: wholeNumber(env, 'S3V_MAX_BODY_BYTES_IN_FLIGHT', 256 * 1024 * 1024),
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

export interface ConnectionLimits {
  max: number;
  minBodyBytesPerSecond?: number;
  bodyRateGraceMs?: number;
  /** Answers a request whose body is cut for being too slow (the socket is closed after it). */
  answerSlowBody?: (res: ServerResponse) => void;
}

/** A request whose body is still arriving: when its headers were read, and the socket's byte count then. */
interface Receiving {
  req: IncomingMessage;
  res: ServerResponse;
  sinceMs: number;
  bytesBefore: number;
  /** The server's own stalled time (see `stalledMs`) when its headers were read. */
  stalledBefore: number;
}

// A newcomer turned away at the limit is answered (503) if its request comes within this time.
const SHED_WAIT_MS = 10_000;
// At most this many turned-away connections wait for their answer; past it they are closed at once.
const MAX_SHEDDING = 64;

/** Connections turned away at the limit: their request gets the model's retryable 503, not a reset. */
export interface ConnectionLimiter {
  shedding(socket: Socket): boolean;
}

// A body less than this far behind the floor may simply be in flight: never evicted for it.
const EVICT_MIN_BEHIND_MS = 250;
const RATE_CHECK_MS = 1000;

/**
 * Keeps at most `max` connections open. Node's own `server.maxConnections` would drop every
 * newcomer once idle connections fill the slots; here a newcomer closes one to make room: first a
 * connection that never sent a byte (the oldest), else the keep-alive one idle the longest, else
 * the one whose body is furthest behind the minimum rate, else one whose headers are still arriving (a body trickled in on purpose holds a
 * slot for the whole request timeout, and its signature is checked only once it has all arrived).
 * When every connection is busy with a request at a fair pace, the newcomer is turned away: its
 * request is answered 503 ServiceUnavailableException (see `shedding`), which the SDKs retry, where
 * a closed socket is a `socket hang up` (and lost to a client that does not retry).
 * Apart from the limit, a body still below the minimum rate after the grace period is cut.
 * Bytes are counted on the socket (`bytesRead`), so the request stream is left untouched.
 */
export function limitConnections(server: Server, limits: ConnectionLimits): ConnectionLimiter {
  const { max, minBodyBytesPerSecond: floor = 0, bodyRateGraceMs: graceMs = 10_000 } = limits;
  const open = new Set<Socket>();
  // Sets keep insertion order: the first is the oldest.
  const unused = new Set<Socket>();
  const idle = new Set<Socket>();
  const active = new Map<Socket, number>();
  const receiving = new Map<Socket, Receiving>();
  const shed = new Set<Socket>();
  const limiter: ConnectionLimiter = { shedding: (socket) => shed.has(socket) };
  // Time this server's event loop was stalled (the rate check ran late): no socket was read then,
  // so it is not counted against a body. A busy server must not cut a client it kept waiting.
  let stalledMs = 0;
  const forget = (socket: Socket) => {
    open.delete(socket);
    unused.delete(socket);
    idle.delete(socket);
    active.delete(socket);
    receiving.delete(socket);
  };
  /** Bytes this body is behind the floor (negative: ahead of it); undefined once it has all arrived. */
  const behind = (socket: Socket, entry: Receiving, now: number): number | undefined => {
    if (entry.req.complete || socket.destroyed) {
      receiving.delete(socket);
      return undefined;
    }
    const elapsed = now - entry.sinceMs - (stalledMs - entry.stalledBefore);
    return (floor * elapsed) / 1000 - (socket.bytesRead - entry.bytesBefore);
  };
  const slowest = (): Socket | undefined => {
    if (floor === 0) return undefined;
    const now = Date.now();
    let victim: Socket | undefined;
    let most = (floor * EVICT_MIN_BEHIND_MS) / 1000;
    for (const [socket, entry] of receiving) {
      const owed = behind(socket, entry, now);
      if (owed !== undefined && owed >= most) [victim, most] = [socket, owed];
    }
    return victim;
  };
  const cut = (socket: Socket, entry: Receiving) => {
    receiving.delete(socket);
    if (entry.res.headersSent || !limits.answerSlowBody) return void socket.destroy();
    // Once the answer has finished, closing the socket no longer aborts the request: destroy it so
    // the body's reader settles and gives its bytes back to the body budget.
    entry.res.once('finish', () => {
      entry.req.destroy();
      socket.destroy();
    });
    limits.answerSlowBody(entry.res);
  };
  server.on('connection', (socket: Socket) => {
    if (open.size >= max) {
      // A connection whose request has begun to arrive (bytes, no headers yet) is in flight: last.
      let silent: Socket | undefined;
      for (const s of unused) if (s.bytesRead === 0 && (silent = s)) break;
      const victim = silent ?? idle.values().next().value ?? slowest() ?? unused.values().next().value;
      if (victim === undefined) {
        if (shed.size >= MAX_SHEDDING) return void socket.destroy();
        shed.add(socket);
        const timer = setTimeout(() => socket.destroy(), SHED_WAIT_MS);
        timer.unref();
        socket.once('close', () => {
          clearTimeout(timer);
          shed.delete(socket);
        });
        return;
      }
      forget(victim);
      victim.destroy();
    }
    open.add(socket);
    unused.add(socket);
    socket.once('close', () => forget(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    if (!open.has(socket)) return;
    unused.delete(socket);
    idle.delete(socket);
    active.set(socket, (active.get(socket) ?? 0) + 1);
    if (!req.complete) receiving.set(socket, { req, res, sinceMs: Date.now(), bytesBefore: socket.bytesRead, stalledBefore: stalledMs });
    res.once('close', () => {
      if (receiving.get(socket)?.req === req) receiving.delete(socket);
      if (!open.has(socket)) return;
      const left = (active.get(socket) ?? 1) - 1;
      if (left > 0) active.set(socket, left);
      else {
        active.delete(socket);
        idle.add(socket);
      }
    });
  });
  if (floor === 0) return limiter;
  // The floor on every body, limit or not: past the grace period, a body averaging below it is cut.
  let lastTick = Date.now();
  let judging: NodeJS.Immediate | undefined;
  const judge = () => {
    judging = undefined;
    const now = Date.now();
    for (const [socket, entry] of receiving) {
      if (now - entry.sinceMs - (stalledMs - entry.stalledBefore) < graceMs) continue;
      const owed = behind(socket, entry, now);
      if (owed !== undefined && owed > 0) cut(socket, entry);
    }
  };
  const check = setInterval(() => {
    const now = Date.now();
    const late = now - lastTick - RATE_CHECK_MS;
    if (late > RATE_CHECK_MS) stalledMs += late;
    lastTick = now;
    // Judged after the next poll phase, not in this timer phase: after a stall, the bytes waiting in
    // the kernel are read first (timers run before I/O), so a body is not judged on stale counts.
    judging ??= setImmediate(judge);
  }, RATE_CHECK_MS);
  check.unref();
  server.once('close', () => {
    clearInterval(check);
    if (judging) clearImmediate(judging);
  });
  return limiter;
}

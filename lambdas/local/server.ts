// The local server: HTTP request → API Gateway proxy event → the same handler a Lambda runs.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { httpSettingsFromEnv, limitConnections, listen, serverOptions, type ConnectionLimiter, type HttpSettings } from './listen';
import { BodyParserPool, bodyWorkerSettingsFromEnv, type BodyJob, type BodyWorkerSettings } from './body-pool';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Deps } from '../core/deps';
import { operationNames } from '../core/model';
import { makeHandler, type PipelineSteps } from '../runtime/pipeline';
import { errorResult, keepRawBody } from '../runtime/event-codec';
import { isUtf8 } from 'node:buffer';
import { ProtocolError } from '../core/errors';
import { route } from './router';
import { BodyBudget, overloadedResult } from './body-budget';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface LocalServerOptions {
  deps: Deps;
  host?: string;
  port?: number;
  steps?: PipelineSteps;
  /** Largest request body accepted, in bytes (AWS: 20 MiB). */
  maxBodyBytes?: number;
  /** Served before the API routes (the console); returns true when it answered the request. */
  extraRoutes?: ExtraRoute;
  /** Connection limit and timeouts (default: the S3V_* variables, see httpSettingsFromEnv). */
  http?: Partial<HttpSettings>;
  /** Parsing large bodies on worker threads (default: the S3V_BODY_* variables). */
  bodyWorkers?: Partial<BodyWorkerSettings>;
}

export type ExtraRoute = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export interface RunningServer {
  url: string;
  server: Server;
  /**
   * Stops accepting connections and resolves once every open request has been answered; after
   * `graceMs` (0 by default) the connections still open are cut.
   */
  close(graceMs?: number): Promise<void>;
}

/** A body over the limit: read to the end and dropped, so the client gets to read our 413. */
class BodyTooLarge extends Error {}
/** Past the budget of body bytes in flight: answered at once, the rest of the body dropped. */
class BodyOverBudget extends Error {}

// Past this much of an oversized body, stop draining it and cut the connection.
const MAX_DRAIN_BYTES = 256 * 1024 * 1024;

/**
 * The body as the socket delivered it, in pieces (joined only where needed). Its bytes are held in
 * the budget as they arrive (`held` says how much), not as declared: a client that declares 20 MiB
 * and sends nothing holds nothing. A body that does not fit with what is held now is refused at
 * once; one that stops fitting as it arrives is refused then.
 */
function readBody(req: IncomingMessage, limit: number, budget: BodyBudget, held: { bytes: number }): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const declared = Number(req.headers['content-length']);
    let tooLarge = Number.isFinite(declared) && declared > limit;
    let dropped = false;
    const hold = (bytes: number) => {
      if (!budget.take(bytes, held.bytes)) return false;
      held.bytes += bytes;
      return true;
    };
    if (!tooLarge && declared > 0 && !budget.fits(declared)) {
      req.resume();
      return reject(new BodyOverBudget());
    }
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (dropped) return;
      if (size > limit && !tooLarge) {
        tooLarge = true;
        chunks.length = 0;
        budget.give(held.bytes);
        held.bytes = 0;
      }
      if (!tooLarge) {
        if (size > held.bytes && !hold(size - held.bytes)) {
          dropped = true;
          chunks.length = 0;
          return reject(new BodyOverBudget());
        }
        chunks.push(chunk);
      } else if (size > MAX_DRAIN_BYTES) {
        req.destroy();
        reject(new BodyTooLarge());
      }
    });
    req.on('end', () => (tooLarge ? reject(new BodyTooLarge()) : resolve(chunks)));
    req.on('error', reject);
    // A request destroyed before its end (cut for a slow body, its client gone): settle, so the
    // handler's `finally` gives its bytes back (a settled promise ignores this).
    req.on('close', () => reject(new Error('request closed before its body arrived')));
  });
}

/** What AWS's front door answers for an oversized request, as an error the SDKs model. */
function tooLargeResult(limit: number): APIGatewayProxyResult {
  const error = new ProtocolError(
    'ValidationException',
    413,
    `Request Too Long: the request body is larger than ${limit} bytes (${(limit / 1048576).toFixed(0)} MiB), the most a request may carry`,
  );
  const result = errorResult(error, randomUUID());
  return { ...result, headers: { ...result.headers, connection: 'close' } };
}

/** A body cut for arriving below the minimum rate: the model's (retryable) timeout error. */
function slowBodyResult(floor: number, graceMs: number): APIGatewayProxyResult {
  const error = new ProtocolError(
    'RequestTimeoutException',
    408,
    `Your request body arrived too slowly: less than ${floor} bytes per second over ${Math.round(graceMs / 1000)} seconds. Retry your request.`,
  );
  const result = errorResult(error, randomUUID());
  return { ...result, headers: { ...result.headers, connection: 'close' } };
}

/**
 * The event's body as text. When a worker has the body (lazy), the text is decoded on first read:
 * in the usual case never on this thread, as the worker hashes and parses it.
 */
function setBody(event: APIGatewayProxyEvent, chunks: Buffer[], lazy: boolean): void {
  const text = () => (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('utf8');
  if (!lazy) {
    const bytes = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    event.body = bytes.length > 0 ? bytes.toString('utf8') : null;
    if (bytes.length > 0 && isUtf8(bytes)) keepRawBody(event, bytes);
    return;
  }
  let decoded: string | undefined;
  Object.defineProperty(event, 'body', {
    enumerable: true,
    configurable: true,
    get: () => (decoded ??= text()),
    set: (value: string | null) => Object.defineProperty(event, 'body', { value, writable: true, enumerable: true, configurable: true }),
  });
}

function toEvent(req: IncomingMessage, rawPath: string, query: URLSearchParams, match: NonNullable<ReturnType<typeof route>>): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i];
    headers[name] = req.rawHeaders[i + 1];
    (multiValueHeaders[name] ??= []).push(req.rawHeaders[i + 1]);
  }
  const multiValueQueryStringParameters: Record<string, string[]> = {};
  for (const [name, value] of query) (multiValueQueryStringParameters[name] ??= []).push(value);
  const queryStringParameters = Object.fromEntries(Object.entries(multiValueQueryStringParameters).map(([k, v]) => [k, v[v.length - 1]]));
  const requestId = randomUUID();
  const hasQuery = Object.keys(queryStringParameters).length > 0;
  return {
    resource: match.resource,
    path: rawPath,
    httpMethod: req.method!,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? queryStringParameters : null,
    multiValueQueryStringParameters: hasQuery ? multiValueQueryStringParameters : null,
    pathParameters: Object.keys(match.pathParameters).length ? match.pathParameters : null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      requestId,
      httpMethod: req.method!,
      path: rawPath,
      resourcePath: match.resource,
      protocol: `HTTP/${req.httpVersion}`,
      stage: 'local',
      requestTimeEpoch: Date.now(),
      identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1' },
    } as APIGatewayProxyEvent['requestContext'],
  };
}

function localContext(operation: string): Context {
  return {
    functionName: `local-${operation}`,
    awsRequestId: randomUUID(),
    callbackWaitsForEmptyEventLoop: false,
  } as Context;
}

function send(res: ServerResponse, result: APIGatewayProxyResult): void {
  const body = result.body ?? '';
  res.writeHead(result.statusCode, { ...(result.headers as Record<string, string>), 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startLocalServer(options: LocalServerOptions): Promise<RunningServer> {
  const bodySettings = { ...bodyWorkerSettingsFromEnv(), ...options.bodyWorkers };
  const pool = bodySettings.workers > 0 ? new BodyParserPool(bodySettings.workers) : undefined;
  // Large bodies' jobs on the pool, by the event the pipeline carries.
  const jobs = new WeakMap<APIGatewayProxyEvent, BodyJob>();
  const steps: PipelineSteps = {
    ...options.steps,
    ...(pool ? { payloadHash: (event) => jobs.get(event)?.hash, parseBody: (event) => jobs.get(event)?.parse() } : {}),
  };
  const handlers = new Map<string, Handler>(
    operationNames.map((name) => [name, makeHandler(name, async () => options.deps, steps) as unknown as Handler]),
  );
  const maxBodyBytes = options.maxBodyBytes ?? 20 * 1024 * 1024;
  const http = { ...httpSettingsFromEnv(), ...options.http };
  const budget = new BodyBudget(http.maxBodyBytesInFlight);
  let limiter: ConnectionLimiter | undefined;
  const server = createServer(serverOptions(http), async (req, res) => {
    const held = { bytes: 0 };
    if (limiter?.shedding(req.socket)) {
      // Turned away at the connection limit: the body is read and dropped, then the retryable 503.
      req.resume();
      req.once('end', () => send(res, { ...overloadedResult(), headers: { ...overloadedResult().headers, connection: 'close' } }));
      return;
    }
    try {
      if (options.extraRoutes && (await options.extraRoutes(req, res))) return;
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const rawPath = q === -1 ? url : url.slice(0, q);
      const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
      const match = route(req.method ?? 'GET', rawPath);
      if (!match) {
        send(res, errorResult(new ProtocolError('UnknownOperationException', 404, `No operation at ${req.method} ${rawPath}`), randomUUID()));
        req.resume();
        return;
      }
      let body: Buffer[];
      try {
        body = await readBody(req, maxBodyBytes, budget, held);
      } catch (error) {
        if (error instanceof BodyOverBudget) {
          // Answered at once; Node reads the rest of the body and drops it, so the connection stays usable.
          if (!res.headersSent && !req.socket.destroyed) send(res, overloadedResult());
          return;
        }
        if (!(error instanceof BodyTooLarge)) throw error;
        if (!res.headersSent && !req.socket.destroyed) send(res, tooLargeResult(maxBodyBytes));
        return;
      }
      const event = toEvent(req, rawPath, query, match);
      // The worker gets the body joined (moved to it); the pieces stay for a fallback to the inline path.
      const size = body.reduce((sum, chunk) => sum + chunk.length, 0);
      const job = pool && size >= bodySettings.minBytes ? pool.open(Buffer.concat(body, size), match.operation.input?.shape) : undefined;
      setBody(event, body, job !== undefined);
      if (job) jobs.set(event, job);
      try {
        send(res, await handlers.get(match.operation.name)!(event, localContext(match.operation.name)));
      } finally {
        job?.release();
      }
    } catch (error) {
      const failure = error instanceof ProtocolError ? error : new ProtocolError('InternalServerException', 500, 'Internal error');
      if (!res.headersSent) send(res, errorResult(failure, randomUUID()));
    } finally {
      budget.give(held.bytes);
    }
  });
  server.keepAliveTimeout = http.keepAliveTimeoutMs;
  limiter = limitConnections(server, {
    max: http.maxConnections,
    minBodyBytesPerSecond: http.minBodyBytesPerSecond,
    bodyRateGraceMs: http.bodyRateGraceMs,
    answerSlowBody: (res) => send(res, slowBodyResult(http.minBodyBytesPerSecond, http.bodyRateGraceMs)),
  });
  const { port, address } = await listen(server, options.port, options.host);
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    server,
    close: (graceMs = 0) =>
      new Promise<void>((resolve) => {
        server.close(() => {
          clearInterval(idle);
          clearTimeout(cut);
          void pool?.close();
          resolve();
        });
        // Keep-alive connections go as soon as they are idle; requests in flight finish first.
        server.closeIdleConnections();
        const idle = setInterval(() => server.closeIdleConnections(), 25);
        const cut = setTimeout(() => server.closeAllConnections(), graceMs);
      }),
  };
}

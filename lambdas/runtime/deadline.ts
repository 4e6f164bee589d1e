// The AWS deployment's time limit per request. API Gateway gives up after 29 s (a bare 504) and a
// Lambda that reaches its timeout is a bare 502; both are outside the handler. So the handler answers
// RequestTimeoutException (408, the model's retryable error) shortly before either happens. The
// operation itself is not cancelled: a write that was still running may land later, which a retry
// of the same request (the same upsert or delete) makes harmless.
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { ServiceError } from '../core/errors';
import { errorResult } from './event-codec';
import { logger } from './logger';

export const API_GATEWAY_TIMEOUT_MS = 29_000;

export interface DeadlineOptions {
  /** API Gateway's integration timeout (raisable for Regional REST APIs). Default S3V_API_GATEWAY_TIMEOUT_MS, else 29 s. */
  apiGatewayTimeoutMs?: number;
  /** Time kept to write the answer before the limit. Default 1,000 ms. */
  marginMs?: number;
  /**
   * How long leftover work of a timed-out request may keep later requests waiting (time it ran
   * while this environment served requests) before they stop waiting for it. Default 2 × the
   * API Gateway timeout.
   */
  stuckAfterMs?: number;
  now?: () => number;
  log?: Pick<typeof logger, 'warn'>;
}

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export class RequestTimeoutError extends ServiceError {
  constructor(message = 'The request timed out. Retry your request.') {
    super('RequestTimeoutException', 408, message);
  }
}

/** Milliseconds left before the earlier of the Lambda timeout and API Gateway's, less the margin. */
export function timeLeftMs(
  event: APIGatewayProxyEvent,
  context: Partial<Pick<Context, 'getRemainingTimeInMillis'>> | undefined,
  marginMs: number,
  now: number,
  gatewayTimeoutMs = API_GATEWAY_TIMEOUT_MS,
): number | undefined {
  const limits: number[] = [];
  const remaining = context?.getRemainingTimeInMillis?.();
  if (typeof remaining === 'number' && Number.isFinite(remaining)) limits.push(remaining);
  // API Gateway's clock started when it received the request (a cold start's init counts too).
  // Only trusted when plausible: a replayed or hand-made event carries an old time.
  const received = event?.requestContext?.requestTimeEpoch;
  if (typeof received === 'number' && now - received >= -5_000 && now - received <= gatewayTimeoutMs) {
    limits.push(received + gatewayTimeoutMs - now);
  }
  return limits.length ? Math.max(0, Math.min(...limits) - marginMs) : undefined;
}

export function withDeadline(handler: Handler, operationName: string, options: DeadlineOptions = {}): Handler {
  const marginMs = options.marginMs ?? 1_000;
  const now = options.now ?? Date.now;
  const log = options.log ?? logger;
  const fromEnv = Number(process.env.S3V_API_GATEWAY_TIMEOUT_MS);
  const gatewayTimeoutMs = options.apiGatewayTimeoutMs ?? (Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : API_GATEWAY_TIMEOUT_MS);
  // Work a timed-out request left running. Lambda runs one request at a time per environment; a
  // request that starts while that work is still going waits for it first (within its own time
  // limit), so timed-out writes and their retries do not pile up on one table. Work that has run
  // for stuckAfterMs (counted only while requests ran: Lambda freezes the environment in between)
  // is taken as hung and no longer waited for; otherwise one hung promise would make this warm
  // environment, which Lambda keeps as its invocations succeed, answer 408 to every request.
  const stuckAfterMs = options.stuckAfterMs ?? 2 * gatewayTimeoutMs;
  let leftover: { done: Promise<unknown>; ranMs: number } | undefined;
  return async (event, context) => {
    const ms = timeLeftMs(event, context, marginMs, now(), gatewayTimeoutMs);
    if (ms === undefined) return handler(event, context);
    const deadline = now() + ms;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    });
    const answerTimeout = () => {
      const requestId = event?.requestContext?.requestId ?? randomUUID();
      log.warn({ operation: operationName, requestId, afterMs: ms }, 'request timed out; answered RequestTimeoutException');
      return errorResult(new RequestTimeoutError(), requestId);
    };
    try {
      const previous = leftover;
      if (previous && previous.ranMs >= stuckAfterMs) {
        log.warn({ operation: operationName, ranMs: previous.ranMs }, 'gave up waiting for the work of a timed-out request (hung?)');
        if (leftover === previous) leftover = undefined;
      } else if (previous) {
        const waitStart = now();
        const waited = await Promise.race([previous.done.then(() => 'done' as const), timedOut]);
        previous.ranMs += now() - waitStart;
        if (waited === 'timeout') return answerTimeout();
      }
      if (now() >= deadline) return answerTimeout();
      const work = handler(event, context);
      const outcome = await Promise.race([work, timedOut]);
      if (outcome !== 'timeout') return outcome;
      const running: Promise<unknown> = work.then(
        () => undefined,
        () => undefined,
      );
      const entry = { done: running, ranMs: ms };
      leftover = entry;
      void running.then(() => {
        if (leftover === entry) leftover = undefined;
      });
      return answerTimeout();
    } finally {
      clearTimeout(timer);
    }
  };
}

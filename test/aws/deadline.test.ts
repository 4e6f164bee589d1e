// The AWS handlers answer a modeled, retryable RequestTimeoutException before API Gateway's 29 s or
// the function's timeout cut them off with a bare 504/502. The real pipeline, with a catalog slowed down.
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Deps } from '../../lambdas/core/deps';
import { API_GATEWAY_TIMEOUT_MS, timeLeftMs, withDeadline } from '../../lambdas/runtime/deadline';
import { makeHandler } from '../../lambdas/runtime/pipeline';
import { startTestService, uniqueName, type TestService } from '../helpers/service';

let t: TestService;
beforeAll(async () => {
  t = await startTestService({ auth: 'off' });
});
afterAll(() => t.close());

function slowDeps(delayMs: number): Deps {
  const deps = t.service.deps;
  const catalog = new Proxy(deps.catalog, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== 'getBucket' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        await new Promise((r) => setTimeout(r, delayMs));
        return value.apply(target, args);
      };
    },
  });
  return { ...deps, catalog };
}

function event(body: object, requestTimeEpoch = Date.now()): APIGatewayProxyEvent {
  return {
    resource: '/GetVectorBucket',
    path: '/GetVectorBucket',
    httpMethod: 'POST',
    headers: { 'Content-Type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: { requestId: 'req-deadline-1', requestTimeEpoch, identity: { sourceIp: '203.0.113.7' } } as never,
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

const lambdaContext = (remainingMs: number) => ({ getRemainingTimeInMillis: () => remainingMs }) as unknown as Context;

async function bucket(): Promise<string> {
  const name = uniqueName('deadline');
  const create = makeHandler('CreateVectorBucket', async () => t.service.deps);
  expect(((await create(event({ vectorBucketName: name }), {} as never)) as APIGatewayProxyResult).statusCode).toBe(200);
  return name;
}

describe('request deadline', () => {
  it('answers RequestTimeoutException 408 before the function’s own timeout', async () => {
    const name = await bucket();
    const log = { warn: jest.fn() };
    // The catalog answers after 6 s; the deadline falls at 0.8 s: the bound below leaves a loaded
    // machine's event loop seconds of lag and still tells the two apart.
    const inner = makeHandler('GetVectorBucket', async () => slowDeps(6_000));
    const handler = withDeadline((e, c) => inner(e, c as never), 'GetVectorBucket', { log });
    const started = Date.now();
    const result = await handler(event({ vectorBucketName: name }), lambdaContext(1_800));
    const elapsed = Date.now() - started;
    expect(result.statusCode).toBe(408);
    expect(result.headers).toMatchObject({ 'x-amzn-errortype': 'RequestTimeoutException', 'x-amzn-requestid': 'req-deadline-1' });
    expect(JSON.parse(result.body)).toEqual({ message: 'The request timed out. Retry your request.' });
    expect(elapsed).toBeLessThan(5_000); // well before the slow catalog answered
    expect(log.warn).toHaveBeenCalledTimes(1);
  });

  it('counts from when API Gateway received the request (a cold start’s init counts against its 29 s)', async () => {
    const name = await bucket();
    const inner = makeHandler('GetVectorBucket', async () => slowDeps(3_000));
    const handler = withDeadline((e, c) => inner(e, c as never), 'GetVectorBucket', { log: { warn: jest.fn() } });
    // 27.5 s already spent before the handler ran; the function itself still has 25 s.
    const result = await handler(event({ vectorBucketName: name }, Date.now() - 27_500), lambdaContext(25_000));
    expect(result.statusCode).toBe(408);
  });

  it('a fast operation is answered as usual', async () => {
    const name = await bucket();
    const inner = makeHandler('GetVectorBucket', async () => t.service.deps);
    const handler = withDeadline((e, c) => inner(e, c as never), 'GetVectorBucket');
    const result = await handler(event({ vectorBucketName: name }), lambdaContext(25_000));
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body).vectorBucket.vectorBucketName).toBe(name);
  });

  it('a request arriving while a timed-out one still runs waits for it (within its own limit), so they do not pile up', async () => {
    const starts: number[] = [];
    const ends: number[] = [];
    const inner = async (): Promise<APIGatewayProxyResult> => {
      const i = starts.push(Date.now()) - 1;
      await new Promise((r) => setTimeout(r, i === 0 ? 2_000 : 0));
      ends[i] = Date.now();
      return { statusCode: 200, headers: {}, body: '{}' };
    };
    const handler = withDeadline(inner, 'PutVectors', { log: { warn: jest.fn() } });
    const noEpoch = () => ({ ...event({}), requestContext: { requestId: 'r' } }) as unknown as APIGatewayProxyEvent;
    expect((await handler(noEpoch(), lambdaContext(1_500))).statusCode).toBe(408);
    // Too little time left to wait for the leftover work: answered at once, not started.
    expect((await handler(noEpoch(), lambdaContext(1_200))).statusCode).toBe(408);
    expect(starts).toHaveLength(1);
    // Enough time: runs once the leftover work is done.
    expect((await handler(noEpoch(), lambdaContext(10_000))).statusCode).toBe(200);
    expect(starts).toHaveLength(2);
    expect(starts[1]).toBeGreaterThanOrEqual(ends[0]);
  });

  it('work that never ends is given up on after a bounded wait: the environment does not answer 408 forever', async () => {
    // A hung operation (a socket that never answers) would otherwise make every later request of
    // this warm environment wait for it and time out: Lambda keeps an environment whose
    // invocations succeed, so it would never be replaced.
    let calls = 0;
    const inner = async (): Promise<APIGatewayProxyResult> => {
      if (calls++ === 0) await new Promise(() => undefined);
      return { statusCode: 200, headers: {}, body: '{}' };
    };
    const warn = jest.fn();
    const handler = withDeadline(inner, 'PutVectors', { log: { warn }, stuckAfterMs: 1_000 });
    const noEpoch = () => ({ ...event({}), requestContext: { requestId: 'r' } }) as unknown as APIGatewayProxyEvent;
    const statuses: number[] = [];
    for (let i = 0; i < 6 && statuses[statuses.length - 1] !== 200; i++) statuses.push((await handler(noEpoch(), lambdaContext(1_500))).statusCode);
    expect(statuses[0]).toBe(408);
    expect(statuses[statuses.length - 1]).toBe(200);
    expect(calls).toBe(2);
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ operation: 'PutVectors' }), expect.stringMatching(/gave up waiting/));
  });

  it('ignores an implausible receive time (a replayed event), and the margin', () => {
    const now = Date.parse('2026-12-01T10:00:00Z');
    const replayed = event({}, now - 3_600_000);
    expect(timeLeftMs(replayed, lambdaContext(25_000), 1_000, now)).toBe(24_000);
    expect(timeLeftMs(event({}, now - 10_000), lambdaContext(25_000), 1_000, now)).toBe(API_GATEWAY_TIMEOUT_MS - 10_000 - 1_000);
    expect(timeLeftMs(replayed, undefined, 1_000, now)).toBeUndefined();
    // A raised integration timeout (Regional REST APIs allow it) moves the limit.
    expect(timeLeftMs(event({}, now - 40_000), undefined, 1_000, now, 120_000)).toBe(79_000);
  });
});

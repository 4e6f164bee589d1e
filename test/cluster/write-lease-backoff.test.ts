// The write lease's waiters back off (jittered, exponential, capped): a writer waiting for another
// process's write asks DynamoDB a few times a second, not every few milliseconds; the writer that
// waited longest has the next turn (a release does not go to whoever asks first); and waiting past
// maxWaitMs is still a 503, at the deadline.
import { commitTableLease, leaseBackoffMs, LeaseLock } from '../../lambdas/adapters/lance/write-lock';
import { startS3Storage, type S3Storage } from '../helpers/s3-storage';

jest.setTimeout(60_000);

let s3: S3Storage;
beforeAll(async () => {
  s3 = await startS3Storage();
});
afterAll(() => s3?.close());

/** A lease whose DynamoDB calls are counted. */
function countedLease(options: { maxWaitMs?: number } = {}): { lock: LeaseLock; puts: () => number } {
  const base = commitTableLease(s3.storage.uri, s3.storage.storageOptions)!;
  let puts = 0;
  base.client.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'PutItemCommand') puts++;
      return next(args);
    },
    { step: 'initialize', name: 'countPuts' },
  );
  return { lock: new LeaseLock({ ...base, ...options }), puts: () => puts };
}

test('the wait doubles from a few ms to at most 250 ms, its upper half random', () => {
  expect(leaseBackoffMs(0, () => 0)).toBe(2);
  expect(leaseBackoffMs(0, () => 1)).toBe(4);
  expect(leaseBackoffMs(3, () => 0)).toBe(16);
  expect(leaseBackoffMs(10, () => 0)).toBe(125);
  expect(leaseBackoffMs(10, () => 1)).toBe(250);
  expect(leaseBackoffMs(1e6, () => 0.5)).toBeCloseTo(187.5);
});

test('a second writer waiting 2 s behind the next in turn backs off: a few dozen attempts at most', async () => {
  const holder = countedLease();
  const first = countedLease();
  const second = countedLease();
  try {
    const release = await holder.lock.acquire('idx-backoff');
    const order: string[] = [];
    const firstTakes = first.lock.acquire('idx-backoff').then((r) => (order.push('first'), r));
    await new Promise((r) => setTimeout(r, 100));
    const before = second.puts();
    const secondTakes = second.lock.acquire('idx-backoff').then((r) => (order.push('second'), r));
    await new Promise((r) => setTimeout(r, 2000));
    const attempts = second.puts() - before;
    await release();
    await (await firstTakes)();
    await (await secondTakes)();
    // Measured on a loaded machine: 32 with the old poll (every 2–50 ms), about 12 with the back-off.
    expect(attempts).toBeLessThanOrEqual(22);
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(order).toEqual(['first', 'second']);
  } finally {
    holder.lock.close();
    first.lock.close();
    second.lock.close();
  }
});

test('the next turn goes to the writer that waited, not to the releasing process asking again at once', async () => {
  const holder = countedLease();
  const again = countedLease();
  const waiter = countedLease();
  try {
    for (let round = 0; round < 3; round++) {
      const release = await holder.lock.acquire('idx-fair');
      const order: string[] = [];
      const waiting = waiter.lock.acquire('idx-fair').then((r) => (order.push('waiter'), r));
      // The waiter has been waiting a while (backed off) when the holder gives the lease back and
      // its process's next writer asks for it in the same moment.
      await new Promise((r) => setTimeout(r, 1200));
      await release();
      const next = again.lock.acquire('idx-fair').then((r) => (order.push('same process'), r));
      await (await waiting)();
      await (await next)();
      expect(order).toEqual(['waiter', 'same process']);
    }
  } finally {
    holder.lock.close();
    again.lock.close();
    waiter.lock.close();
  }
});

test('waiting past maxWaitMs is still a 503, and not before the deadline', async () => {
  const holder = countedLease();
  const waiter = countedLease({ maxWaitMs: 1500 });
  try {
    const release = await holder.lock.acquire('idx-deadline');
    const started = Date.now();
    await expect(waiter.lock.acquire('idx-deadline')).rejects.toMatchObject({ code: 'ServiceUnavailableException', status: 503 });
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(1500);
    expect(waited).toBeLessThan(1500 + 3000);
    await release();
  } finally {
    holder.lock.close();
    waiter.lock.close();
  }
});

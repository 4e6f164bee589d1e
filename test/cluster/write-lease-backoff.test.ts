// The write lease's waiters back off (jittered, exponential, capped): a writer waiting for another
// process's write asks DynamoDB a few times a second, not every few milliseconds; and waiting past
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

test('a writer waiting 2 s for the holder makes a few dozen attempts at most, and gets the lease at its release', async () => {
  const holder = countedLease();
  const waiter = countedLease();
  try {
    const release = await holder.lock.acquire('idx-backoff');
    const before = waiter.puts();
    const started = Date.now();
    let gotAt = 0;
    const taking = waiter.lock.acquire('idx-backoff').then((r) => ((gotAt = Date.now()), r));
    await new Promise((r) => setTimeout(r, 2000));
    const releasedAt = Date.now();
    await release();
    const releaseWaiter = await taking;
    const attempts = waiter.puts() - before;
    // Measured on a loaded machine: 32 with the old poll (every 2–50 ms), 14 with the back-off.
    expect(attempts).toBeLessThanOrEqual(24);
    expect(attempts).toBeGreaterThanOrEqual(3);
    // It looks at least every 250 ms (plus a loaded machine's slack).
    expect(gotAt - releasedAt).toBeLessThan(2000);
    expect(gotAt - started).toBeGreaterThanOrEqual(2000);
    await releaseWaiter();
  } finally {
    holder.lock.close();
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

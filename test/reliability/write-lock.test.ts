// The cross-process write lease (write-lock.ts) on dynalite, in the commit table it uses on s3+ddb:
// one holder at a time, a dead holder's lease expires, and waiting too long is a 503 the SDKs retry.
import { commitTableLease, LeaseLock } from '../../lambdas/adapters/lance/write-lock';
import { startS3Storage, type S3Storage } from '../helpers/s3-storage';

let s3: S3Storage;
beforeAll(async () => {
  s3 = await startS3Storage();
});
afterAll(() => s3.close());

function lease(options: { leaseMs?: number; maxWaitMs?: number } = {}): LeaseLock {
  return new LeaseLock({ ...commitTableLease(s3.storage.uri, s3.storage.storageOptions)!, ...options });
}

test('one holder at a time; the next one gets it when it is released', async () => {
  const [a, b] = [lease(), lease()];
  try {
    const releaseA = await a.acquire('idx-1');
    let bHas = false;
    const bTakes = b.acquire('idx-1').then((release) => ((bHas = true), release));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bHas).toBe(false);
    await releaseA();
    const releaseB = await bTakes;
    expect(bHas).toBe(true);
    await releaseB();
    // Names are independent.
    const [r1, r2] = await Promise.all([a.acquire('idx-2'), b.acquire('idx-3')]);
    await Promise.all([r1(), r2()]);
  } finally {
    a.close();
    b.close();
  }
});

test("a holder that died holds the index no longer than its lease", async () => {
  // Renewal runs every max(1 s, lease/3): with a 300 ms lease a holder that stops is not renewed.
  const [dead, next] = [lease({ leaseMs: 300 }), lease({ leaseMs: 300 })];
  try {
    await dead.acquire('idx-dead');
    const started = Date.now();
    const release = await next.acquire('idx-dead');
    expect(Date.now() - started).toBeLessThan(5000);
    await release();
  } finally {
    dead.close();
    next.close();
  }
});

test('waiting longer than maxWaitMs is ServiceUnavailableException (503)', async () => {
  const [holder, waiter] = [lease(), lease({ maxWaitMs: 300 })];
  try {
    const release = await holder.acquire('idx-busy');
    await expect(waiter.acquire('idx-busy')).rejects.toMatchObject({ code: 'ServiceUnavailableException', status: 503 });
    await release();
  } finally {
    holder.close();
    waiter.close();
  }
});

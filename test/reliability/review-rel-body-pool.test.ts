// Review (review-rel): the body pool when its worker dies mid-job, and bodies around the default
// 256 KiB threshold answered as the inline path answers them.
import { createHash } from 'node:crypto';
import { CreateIndexCommand, CreateVectorBucketCommand, GetVectorsCommand } from '@aws-sdk/client-s3vectors';
import { BodyParserPool, bodyWorkerSettingsFromEnv } from '../../lambdas/local/body-pool';
import { callOperation } from '../helpers/raw';
import { startTestService, type TestService } from '../helpers/service';

jest.setTimeout(120_000);

type Internals = { slots: { worker: { terminate(): Promise<number> } }[] };

describe('a worker that dies', () => {
  const pool = new BodyParserPool(1);
  afterAll(() => pool.close());
  const body = () => Buffer.from(JSON.stringify({ vectors: [{ key: 'a', data: { float32: [1, 2, 3] } }] }));

  test('between hash and parse: the parse falls back inline, the next body gets a new worker', async () => {
    const bytes = body();
    const expected = createHash('sha256').update(bytes).digest('hex');
    const job = pool.open(Buffer.from(bytes));
    expect(await job.hash).toBe(expected);
    await (pool as unknown as Internals).slots[0].worker.terminate();
    expect(await job.parse()).toBeUndefined();
    const next = pool.open(Buffer.from(bytes));
    expect(await next.hash).toBe(expected);
    expect(await next.parse()).toMatchObject({ value: { vectors: [{ key: 'a' }] } });
  });

  test('terminated as the body arrives: both steps answer (from the worker or inline), nothing hangs', async () => {
    const job = pool.open(body());
    void (pool as unknown as Internals).slots[0].worker.terminate();
    const hash = await job.hash;
    expect(hash === undefined || /^[0-9a-f]{64}$/.test(hash)).toBe(true);
    expect(await job.parse()).toBeUndefined();
  });
});

describe('bodies around the default threshold (256 KiB; 2 MiB on two cores), default settings', () => {
  let worker: TestService;
  let inline: TestService;
  const saved = { ...process.env };
  async function start(env: Record<string, string>): Promise<TestService> {
    Object.assign(process.env, env);
    delete process.env.S3V_BODY_WORKER_MIN_BYTES;
    try {
      return await startTestService();
    } finally {
      process.env = { ...saved };
    }
  }
  beforeAll(async () => {
    worker = await start({ S3V_BODY_WORKERS: '1' });
    inline = await start({ S3V_BODY_WORKERS: '0' });
    for (const t of [worker, inline]) {
      await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: 'rr-thr' }));
      await t.client.send(new CreateIndexCommand({ vectorBucketName: 'rr-thr', indexName: 'rr-idx', dataType: 'float32', dimension: 4, distanceMetric: 'cosine' }));
    }
  });
  afterAll(async () => {
    await worker?.close();
    await inline?.close();
  });

  /** A PutVectors body of exactly `size` bytes (padded with trailing white space). */
  function sized(size: number, key: string, values: string): string {
    const make = (pad: number) => `{"vectorBucketName":"rr-thr","indexName":"rr-idx","vectors":[{"key":"${key}","data":{"float32":[${values}]},"metadata":{"p":"x"}}]}${' '.repeat(pad)}`;
    const body = make(size - Buffer.byteLength(make(0)));
    expect(Buffer.byteLength(body)).toBe(size);
    return body;
  }
  const T = bodyWorkerSettingsFromEnv({}).minBytes;
  const cases: [string, string][] = [];
  for (const size of [T - 1, T, T + 1]) {
    cases.push([`${size} B, good`, sized(size, `g${size}`, '1.401298464324817e-45,-0,3.4028235e38,0.1')]);
    cases.push([`${size} B, 3.4028236e38`, sized(size, `p${size}`, '1,2,3,3.4028236e38')]);
    cases.push([`${size} B, zero vector (cosine)`, sized(size, `z${size}`, '-0,0,1e-46,0')]);
    cases.push([`${size} B, a string`, sized(size, `s${size}`, '1,2,"3",4')]);
  }
  test.each(cases)('%s: the same answer either way', async (_name, body) => {
    const [a, b] = await Promise.all([callOperation(worker.url, 'PutVectors', body), callOperation(inline.url, 'PutVectors', body)]);
    const view = (r: typeof a) => ({ status: r.status, errorType: r.errorType, message: r.body.message, fieldList: r.body.fieldList });
    expect(view(a)).toEqual(view(b));
    if (_name.endsWith('good')) expect(a.status).toBe(200);
  });
  test('the good ones stored bit for bit alike', async () => {
    const keys = [T - 1, T, T + 1].map((s) => `g${s}`);
    const read = (t: TestService) => t.client.send(new GetVectorsCommand({ vectorBucketName: 'rr-thr', indexName: 'rr-idx', keys, returnData: true }));
    const [a, b] = await Promise.all([read(worker), read(inline)]);
    const bits = (r: typeof a) => (r.vectors ?? []).map((v) => [v.key, Array.from(new Uint32Array(new Float32Array(v.data!.float32!).buffer))]).sort();
    expect(bits(a)).toEqual(bits(b));
    expect(bits(a).length).toBe(3);
  });
});

describe('bodies waiting for their request to be authenticated', () => {
  test('cost the worker their bytes only, no decoded copy (an unauthenticated flood pins less)', async () => {
    const pool = new BodyParserPool(1);
    try {
      // Warm the worker up so its start is not counted.
      await pool.open(Buffer.from('{}')).hash;
      const size = 16 * 1024 * 1024;
      const jobs = [];
      const before = process.memoryUsage().rss;
      for (let i = 0; i < 6; i++) {
        const bytes = Buffer.alloc(size, 0x20);
        bytes[0] = 0x7b;
        bytes[size - 1] = 0x7d;
        jobs.push(pool.open(bytes));
      }
      await Promise.all(jobs.map((j) => j.hash));
      const grown = (process.memoryUsage().rss - before) / (6 * size);
      console.log(JSON.stringify({ rssGrowthPerBodyByte: +grown.toFixed(2) }));
      // The bytes themselves (moved to the worker): about 1; with each body's text kept too, about 2.
      expect(grown).toBeLessThan(1.5);
      for (const job of jobs) job.release();
    } finally {
      await pool.close();
    }
  });
});

describe('the default threshold', () => {
  test('2 MiB on two cores or fewer (the worker costs CPU there), 256 KiB with cores to spare', () => {
    expect(bodyWorkerSettingsFromEnv({}, 2)).toEqual({ workers: 1, minBytes: 2 * 1024 * 1024 });
    expect(bodyWorkerSettingsFromEnv({}, 1)).toEqual({ workers: 1, minBytes: 2 * 1024 * 1024 });
    expect(bodyWorkerSettingsFromEnv({}, 8)).toEqual({ workers: 2, minBytes: 256 * 1024 });
    expect(bodyWorkerSettingsFromEnv({ S3V_BODY_WORKER_MIN_BYTES: '1000' }, 2).minBytes).toBe(1000);
  });
});

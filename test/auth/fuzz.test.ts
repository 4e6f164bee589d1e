// Fuzzing the authentication step through the HTTP server (fast-check, fixed seed): requests signed
// with the root key and then broken (headers, dates, bodies, paths), and forged Authorization headers,
// get 400 or 403 with an AWS error type, never a 5xx, and never write anything.
import { ListVectorBucketsCommand } from '@aws-sdk/client-s3vectors';
import fc from 'fast-check';
import { Agent, request } from 'node:http';
import { signedRequest } from '../helpers/raw';
import { REGION, TEST_CREDENTIALS, startTestService, uniqueName, type TestService } from '../helpers/service';

let t: TestService;
let port: number;
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

beforeAll(async () => {
  t = await startTestService();
  port = Number(new URL(t.url).port);
});
afterAll(async () => {
  agent.destroy();
  await t.close();
});

interface Wire {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

function send(wire: Wire): Promise<{ status: number; errorType?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = { ...wire.headers, 'content-length': String(wire.body.length) };
    const req = request({ host: '127.0.0.1', port, method: wire.method, path: wire.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, errorType: res.headers['x-amzn-errortype'] as string | undefined, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(wire.body);
  });
}

/** A correctly signed CreateVectorBucket as the root user: what every mutation starts from. */
async function signedBase(): Promise<Wire> {
  const body = JSON.stringify({ vectorBucketName: uniqueName('fuzz') });
  const signed = await signedRequest(t.url, '/CreateVectorBucket', body);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.init.headers as Record<string, string>)) headers[k.toLowerCase()] = v;
  return { method: 'POST', path: '/CreateVectorBucket', headers, body: Buffer.from(body) };
}

const amzDate = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
const printable = (max = 40) => fc.string({ unit: 'grapheme-ascii', maxLength: max });
const token = (max = 20) => fc.stringMatching(new RegExp(`^[A-Za-z0-9._-]{1,${max}}$`));
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const nearDate = fc.integer({ min: -30 * 60, max: 30 * 60 }).map((s) => amzDate(new Date(Date.now() + s * 1000)));
const anyDate = fc.oneof(
  nearDate,
  fc.date({ min: new Date('1970-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }).map(amzDate),
  printable(20),
  fc.stringMatching(/^\d{8}T\d{6}Z$/),
);
const OPERATION_PATHS = ['/CreateVectorBucket', '/DeleteVectorBucket', '/PutVectors', '/ListVectorBuckets', '/QueryVectors', '/PutVectorBucketPolicy', '/CreateIndex'];
const somePath = fc.oneof(
  fc.constantFrom(...OPERATION_PATHS.slice(1)),
  printable(30).map((s) => `/tags/${encodeURIComponent(s || 'x')}`),
  printable(30).map((s) => `/tags/${encodeURIComponent(`arn:aws:s3vectors:${REGION}:123456789012:bucket/${s}`)}`),
);
const someBody = fc.oneof(
  fc.json().map((j) => Buffer.from(j)),
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
  fc.record({ vectorBucketName: token(30) }).map((o) => Buffer.from(JSON.stringify(o))),
);

type Mutation = (w: Wire) => Wire;
const withHeader = (w: Wire, name: string, value: string | undefined): Wire => {
  const headers = { ...w.headers };
  if (value === undefined) delete headers[name];
  else headers[name] = value;
  return { ...w, headers };
};

/** Changes that always break the signature (each checks it really changed something). */
const breaking: fc.Arbitrary<Mutation> = fc.oneof(
  someBody.map((body) => (w: Wire) => ({ ...w, body: body.equals(w.body) ? Buffer.concat([body, Buffer.from(' ')]) : body })),
  fc.nat().map((i) => (w: Wire) => {
    const body = Buffer.from(w.body.length ? w.body : '{}');
    body[i % body.length] ^= 1 + (i % 127);
    return { ...w, body };
  }),
  anyDate.map((d) => (w: Wire) => withHeader(w, 'x-amz-date', d === w.headers['x-amz-date'] ? `${d}0` : d)),
  // (not host: the HTTP client puts the same one back)
  fc.constantFrom('x-amz-date', 'content-type', 'x-amz-content-sha256', 'authorization').map((h) => (w: Wire) => withHeader(w, h, undefined)),
  printable().map((v) => (w: Wire) => withHeader(w, 'content-type', v === w.headers['content-type'] ? `${v}x` : v)),
  token(30).map((v) => (w: Wire) => withHeader(w, 'host', v === w.headers.host ? `${v}x` : v)),
  hex64.map((v) => (w: Wire) => withHeader(w, 'x-amz-content-sha256', v === w.headers['x-amz-content-sha256'] ? v.replace(/.$/, (c) => (c === '0' ? '1' : '0')) : v)),
  somePath.map((p) => (w: Wire) => ({ ...w, path: p !== w.path ? p : w.path === '/PutVectors' ? '/QueryVectors' : '/PutVectors' })),
  // The signature itself: one hex digit changed, or cut short.
  fc.nat(63).map((i) => (w: Wire) => withHeader(w, 'authorization', (w.headers.authorization ?? '').replace(/Signature=([0-9a-f]{64})/, (_m, s: string) => `Signature=${s.slice(0, i)}${s[i] === 'a' ? 'b' : 'a'}${s.slice(i + 1)}`))),
  fc.nat(63).map((i) => (w: Wire) => withHeader(w, 'authorization', (w.headers.authorization ?? '').replace(/Signature=([0-9a-f]{64})/, (_m, s: string) => `Signature=${s.slice(0, i)}`))),
  // The credential scope or the signed-header list.
  fc.tuple(fc.constantFrom(0, 1, 2, 3, 4), token()).map(([part, value]) => (w: Wire) =>
    withHeader(w, 'authorization', (w.headers.authorization ?? '').replace(/Credential=([^,]*)/, (_m, c: string) => {
      const parts = c.split('/');
      parts[part] = parts[part] === value ? `${value}x` : value;
      return `Credential=${parts.join('/')}`;
    })),
  ),
  fc.array(fc.constantFrom('host', 'x-amz-date', 'content-type', 'x-amz-content-sha256', 'user-agent', 'date', 'authorization', 'content-length'), { minLength: 0, maxLength: 5 }).map(
    (list) => (w: Wire) =>
      withHeader(w, 'authorization', (w.headers.authorization ?? '').replace(/SignedHeaders=([^,]*)/, (_m, s: string) => `SignedHeaders=${list.join(';') === s ? `${s};date` : list.join(';')}`)),
  ),
  // An Authorization header made up from scratch, with the root key id so the secret is looked up.
  fc
    .record({
      algorithm: fc.constantFrom('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1', 'AWS', ''),
      key: fc.constantFrom(TEST_CREDENTIALS.accessKeyId, 'AKIAUNKNOWN000000000', ''),
      date: fc.oneof(fc.constant(amzDate(new Date()).slice(0, 8)), printable(10)),
      region: fc.constantFrom(REGION, 'eu-west-1', ''),
      service: fc.constantFrom('s3vectors', 'execute-api', 's3', ''),
      signed: fc.constantFrom('host;x-amz-date', 'host', 'content-type;host;x-amz-content-sha256;x-amz-date', ''),
      signature: fc.oneof(hex64, printable(70)),
      junk: fc.boolean(),
    })
    .map((a) => (w: Wire) =>
      withHeader(w, 'authorization', `${a.algorithm} Credential=${a.key}/${a.date}/${a.region}/${a.service}/aws4_request, SignedHeaders=${a.signed}, Signature=${a.signature}${a.junk ? ', Extra=1' : ''}`),
    ),
  printable(120).map((v) => (w: Wire) => withHeader(w, 'authorization', v)),
);

/** Changes that need not break anything by themselves: unsigned extra headers. */
const noise: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(token(12), printable()).map(([n, v]) => (w: Wire) => withHeader(w, `x-fz-${n.toLowerCase()}`, v)),
  printable(60).map((v) => (w: Wire) => withHeader(w, 'user-agent', v)),
  printable(60).map((v) => (w: Wire) => withHeader(w, 'x-amz-security-token', v)),
  fc.constant((w: Wire) => withHeader(w, 'x-amz-target', 'S3Vectors.CreateVectorBucket')),
);

describe('fuzzing authentication', () => {
  it('mutated and forged requests get only 400 or 403, never a 5xx, and write nothing', async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(breaking, { minLength: 1, maxLength: 3 }), fc.array(noise, { maxLength: 3 }), fc.boolean(), async (breaks, noises, noiseFirst) => {
        let wire = await signedBase();
        for (const m of noiseFirst ? [...noises, ...breaks] : [...breaks, ...noises]) wire = m(wire);
        const res = await send(wire);
        const key = `${res.status} ${res.errorType}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        if (res.status !== 400 && res.status !== 403) throw new Error(`got ${res.status} ${res.errorType}: ${res.body}\n${JSON.stringify({ ...wire, body: wire.body.toString('base64') })}`);
        expect(res.errorType).toBeTruthy();
      }),
      { seed: Number(process.env.S3V_FUZZ_SEED ?? 20261124), numRuns: Number(process.env.S3V_FUZZ_RUNS ?? 500) },
    );
    if (process.env.S3V_FUZZ_SEED) console.log(Object.fromEntries(seen));
    // The fuzzer reached every kind of rejection, not just one.
    const kinds = [...seen.keys()].map((k) => k.split(' ')[1]);
    expect(kinds).toEqual(expect.arrayContaining(['InvalidSignatureException', 'IncompleteSignatureException', 'UnrecognizedClientException', 'MissingAuthenticationTokenException']));
    const buckets = await t.client.send(new ListVectorBucketsCommand({}));
    expect(buckets.vectorBuckets ?? []).toEqual([]);
  });

  it('the unmutated base request is accepted (so the rejections above are the mutations’ doing)', async () => {
    const res = await send(await signedBase());
    expect(res.status).toBe(200);
  });
});

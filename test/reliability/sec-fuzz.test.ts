// Issue 10 fuzz run: fast-check (fixed seed) over every operation's input shape, correctly signed as
// the root user so validation and the use cases see the input, and over raw HTTP variants (bad JSON,
// wrong content types, huge headers, odd paths and methods, duplicate headers). No answer may be
// a 5xx, no connection may die, and the server must keep serving. test/auth/fuzz.test.ts covers
// broken signatures; this one reuses its wire helpers' approach for what gets past them.
import { CreateIndexCommand, CreateVectorBucketCommand, ListVectorBucketsCommand } from '@aws-sdk/client-s3vectors';
import fc from 'fast-check';
import { Agent, request } from 'node:http';
import { operationNames, operations, inputShape } from '../../lambdas/core/model';
import { signedRequest } from '../helpers/raw';
import { startTestService, type TestService } from '../helpers/service';

let t: TestService;
let port: number;
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

beforeAll(async () => {
  t = await startTestService();
  port = Number(new URL(t.url).port);
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: 'fuzz-bucket' }));
  await t.client.send(new CreateIndexCommand({ vectorBucketName: 'fuzz-bucket', indexName: 'fuzz-index', dataType: 'float32', dimension: 4, distanceMetric: 'cosine' }));
});
afterAll(async () => {
  agent.destroy();
  await t.close();
});

interface Res {
  status: number;
  errorType?: string;
  body: string;
}

function send(method: string, path: string, headers: [string, string][], body: Buffer): Promise<Res> {
  return new Promise((resolve, reject) => {
    const flat: string[] = [];
    for (const [k, v] of headers) flat.push(k, v);
    flat.push('content-length', String(body.length));
    const req = request({ host: '127.0.0.1', port, method, path, headers: flat, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, errorType: res.headers['x-amzn-errortype'] as string, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function signedSend(path: string, body: string, extra: [string, string][] = [], method = 'POST'): Promise<Res> {
  const s = await signedRequest(t.url, path, body, { method });
  const headers = Object.entries(s.init.headers as Record<string, string>);
  return send(method, new URL(s.url).pathname + new URL(s.url).search, [...headers, ...extra], Buffer.from(body));
}

const names = fc.oneof(fc.constantFrom('fuzz-bucket', 'fuzz-index', 'missing-one', 'ab', '', 'A_B', 'x'.repeat(64)), fc.string({ maxLength: 70 }));
const floats = fc.array(fc.oneof(fc.float(), fc.double(), fc.constant(Number.MAX_VALUE), fc.integer()), { maxLength: 6 });
const leaf: fc.Arbitrary<unknown> = fc.oneof(
  names,
  fc.integer({ min: -5, max: 20_000 }),
  fc.boolean(),
  fc.constant(null),
  floats,
  fc.record({ float32: floats }),
  fc.constantFrom('float32', 'cosine', 'euclidean', 'ENHANCED', 'CLASSIC', 'AES256', 'aws:kms'),
  fc.dictionary(fc.constantFrom('genre', '$and', '$or', '$eq', '$in', 'year', '$startsWith'), fc.oneof(fc.string(), fc.integer(), fc.array(fc.string(), { maxLength: 3 }))),
  fc.jsonValue({ maxDepth: 3 }),
);
/** A body for an operation: its own member names (from the model) with values of every kind. */
function bodyFor(op: string): fc.Arbitrary<Record<string, unknown>> {
  const members = Object.keys(inputShape(operations[op as keyof typeof operations])?.members ?? {});
  const memberValue = (m: string): fc.Arbitrary<unknown> =>
    m === 'vectors'
      ? fc.array(fc.record({ key: names, data: fc.record({ float32: floats }), metadata: fc.option(leaf) }, { requiredKeys: [] }), { maxLength: 4 })
      : m === 'vectorBucketName'
        ? fc.oneof(fc.constant('fuzz-bucket'), names)
        : m === 'indexName'
          ? fc.oneof(fc.constant('fuzz-index'), names)
          : leaf;
  const model = members.length ? fc.record(Object.fromEntries(members.map((m) => [m, memberValue(m)])), { requiredKeys: [] }) : fc.constant({});
  return fc.tuple(model, fc.dictionary(fc.string({ maxLength: 8 }), leaf, { maxKeys: 2 })).map(([a, b]) => ({ ...b, ...a }));
}

const operationCase = fc.constantFrom(...operationNames).chain((op) =>
  bodyFor(op).map((body) => ({ kind: 'operation' as const, op, body })),
);

const rawCase = fc.oneof(
  // bad JSON and non-objects, signed
  fc.tuple(fc.constantFrom(...operationNames), fc.oneof(fc.string({ maxLength: 200 }), fc.constantFrom('{', '[]', 'null', '"x"', '{"a":', '\u0000', '{"vectors":[' + '1,'.repeat(5000) + '1]}'))).map(([op, text]) => ({ kind: 'signed-text' as const, op, text, extra: [] as [string, string][] })),
  // wrong content types
  fc.tuple(fc.constantFrom(...operationNames), fc.constantFrom('text/plain', 'application/xml', 'multipart/form-data; boundary=x', '', 'application/json; charset=utf-16')).map(([op, ct]) => ({ kind: 'signed-text' as const, op, text: '{}', extra: [['content-type', ct]] as [string, string][] })),
  // duplicate headers (signed request plus a repeated header)
  fc.tuple(fc.constantFrom(...operationNames), fc.constantFrom('authorization', 'x-amz-date', 'content-type', 'host', 'x-amz-content-sha256', 'user-agent')).map(([op, h]) => ({ kind: 'dup' as const, op, header: h })),
  // huge headers (under and over Node's 16 KiB header limit), odd paths and methods, unsigned
  fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'FOO'),
    path: fc.oneof(fc.constantFrom('/', '//', '/PutVectors/', '/tags/', '/tags/%', '/tags/%E0%A4%A', '/%2e%2e/etc', '/PutVectors?x=%'), fc.webPath(), fc.string({ maxLength: 50 }).map((s) => `/${encodeURIComponent(s)}`)),
    headerSize: fc.constantFrom(0, 100, 8_000, 20_000),
  }).map((r) => ({ kind: 'raw' as const, ...r })),
);

type Case = { kind: 'operation'; op: string; body: Record<string, unknown> } | { kind: 'signed-text'; op: string; text: string; extra: [string, string][] } | { kind: 'dup'; op: string; header: string } | { kind: 'raw'; method: string; path: string; headerSize: number };

async function runCase(c: Case): Promise<Res> {
  switch (c.kind) {
    case 'operation': {
      const op = operations[c.op as keyof typeof operations];
      // Path labels and query members come from the body where the route needs them.
      const label = (v: unknown) => (typeof v === 'string' ? v : v === undefined ? 'x' : JSON.stringify(v));
      const path = op.http.requestUri.replace(/\{(\w+)\}/g, (_m, l: string) => encodeURIComponent(label((c.body as Record<string, unknown>)[l])));
      return signedSend(path.split('?')[0], JSON.stringify(c.body), [], op.http.method);
    }
    case 'signed-text': {
      const op = operations[c.op as keyof typeof operations];
      return signedSend(op.http.requestUri.replace(/\{\w+\}/g, 'x').split('?')[0], c.text, c.extra, op.http.method);
    }
    case 'dup': {
      const op = operations[c.op as keyof typeof operations];
      const path = op.http.requestUri.replace(/\{\w+\}/g, 'x').split('?')[0];
      const s = await signedRequest(t.url, path, '{}', { method: op.http.method });
      const headers = Object.entries(s.init.headers as Record<string, string>);
      const value = headers.find(([k]) => k.toLowerCase() === c.header)?.[1] ?? 'dup';
      return send(op.http.method, path, [...headers, [c.header, value]], Buffer.from('{}'));
    }
    case 'raw':
      return send(c.method, c.path, c.headerSize ? [['x-big', 'a'.repeat(c.headerSize)]] : [], Buffer.alloc(0));
  }
}

describe('fuzzing every operation and raw HTTP', () => {
  it('≥ 5,000 cases: never a 5xx, never a dropped connection', async () => {
    const seen = new Map<string, number>();
    const runs = Number(process.env.S3V_FUZZ_RUNS ?? 5_000);
    const started = Date.now();
    const rssBefore = process.memoryUsage().rss;
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 3, arbitrary: operationCase }, { weight: 2, arbitrary: rawCase }), async (c) => {
        const res = await runCase(c as Case);
        const key = `${res.status} ${res.errorType ?? ''}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        // 431: Node's own answer for headers over its limit (not ours to shape).
        if (res.status >= 500 || res.status === 0) throw new Error(`got ${res.status} ${res.errorType}: ${res.body.slice(0, 300)}\n${JSON.stringify(c).slice(0, 1000)}`);
      }),
      { seed: Number(process.env.S3V_FUZZ_SEED ?? 20261201), numRuns: runs, interruptAfterTimeLimit: 150_000 },
    );
    const ms = Date.now() - started;
    const mb = (n: number) => Math.round(n / 1048576);
    console.log(`sec-fuzz: RSS ${mb(rssBefore)} MB before, ${mb(process.memoryUsage().rss)} MB after (server and fuzzer in one process)`);
    console.log(`sec-fuzz: ${runs} cases in ${ms} ms; answers ${JSON.stringify(Object.fromEntries([...seen].sort((a, b) => b[1] - a[1])))}`);
    // The fuzzer got past validation too: some cases succeeded.
    expect([...seen.keys()].some((k) => k.startsWith('200'))).toBe(true);
    expect((await t.client.send(new ListVectorBucketsCommand({}))).$metadata.httpStatusCode).toBe(200);
  }, 400_000);
});

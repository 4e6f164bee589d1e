import { createHash, createHmac } from 'node:crypto';
import { timingSafeEqual } from 'node:crypto';
import fc from 'fast-check';
import {
  CreateVectorBucketCommand,
  ListTagsForResourceCommand,
  QueryVectorsCommand,
  S3VectorsClient,
  UntagResourceCommand,
} from '@aws-sdk/client-s3vectors';
import { ProtocolError, ValidationError } from '../../lambdas/core/errors';
import { SIGNATURE_MISMATCH, verifySignature, type SignedRequest } from '../../lambdas/core/auth/sigv4';
import { userPrincipal } from '../../lambdas/core/auth/principal';

// Wraps the real timingSafeEqual so the test can see the verifier use it.
jest.mock('node:crypto', () => {
  const actual = jest.requireActual('node:crypto');
  return { ...actual, timingSafeEqual: jest.fn(actual.timingSafeEqual) };
});

const ACCOUNT = '123456789012';
const KEY = 'AKIAEXAMPLEACCESSKEY';
const SECRET = 'example-secret';
const alice = userPrincipal(ACCOUNT, 'alice');
const lookup = async (id: string) => (id === KEY ? { secretAccessKey: SECRET, principal: alice } : undefined);
const opts = (now: Date, region = 'us-east-1') => ({ region, now, services: ['s3vectors', 'execute-api'] });
const INDEX_ARN = `arn:aws:s3vectors:us-east-1:${ACCOUNT}:bucket/media-embeddings/index/movies`;

/** Signs with the real JS SDK client and captures the request instead of sending it. */
async function sdkRequest(command: any, config: { service?: string; region?: string; sessionToken?: string } = {}): Promise<SignedRequest> {
  let captured: any;
  const client = new S3VectorsClient({
    region: config.region ?? 'us-east-1',
    endpoint: 'http://127.0.0.1:18731',
    credentials: { accessKeyId: KEY, secretAccessKey: SECRET, sessionToken: config.sessionToken },
    maxAttempts: 1,
    // What a client configured for the AWS deployment does: sign for execute-api instead of s3vectors.
    ...(config.service && { signingName: config.service }),
    requestHandler: {
      handle: async (request: any) => {
        captured = request;
        throw new Error('captured');
      },
    } as any,
  });
  await client.send(command).catch((e: Error) => {
    if (e.message !== 'captured') throw e;
  });
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(captured.headers as Record<string, string>)) headers[k.toLowerCase()] = v;
  headers.host = headers.host ?? `${captured.hostname}:${captured.port}`;
  return { method: captured.method, path: captured.path, query: captured.query ?? {}, headers, body: captured.body ?? '' };
}

const dateOf = (req: SignedRequest) => {
  const d = req.headers['x-amz-date']!;
  return new Date(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`);
};

async function rejection(p: Promise<unknown>): Promise<ProtocolError> {
  const e = await p.then(
    () => undefined,
    (err) => err,
  );
  expect(e).toBeInstanceOf(ProtocolError);
  return e as ProtocolError;
}

// ---- botocore, re-implemented from boto3-wire.md as an independent oracle ----
const quote = (s: string, safe: string) =>
  [...Buffer.from(s, 'utf8')]
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9_.\-~]/.test(c) || safe.includes(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const hmac = (k: Buffer | string, s: string) => createHmac('sha256', k).update(s).digest();

function botocoreCanonicalRequest(method: string, path: string, query: [string, string][], headers: Record<string, string>, body: string) {
  const names = Object.keys(headers).sort();
  return [
    method,
    quote(path, '/'), // botocore: quote(path, safe='/~') on the already-encoded path, i.e. double encoding
    query.map(([k, v]) => [quote(k, ''), quote(v, '')]).sort().map(([k, v]) => `${k}=${v}`).join('&'),
    names.map((n) => `${n}:${headers[n].trim()}\n`).join(''),
    names.join(';'),
    sha256(body),
  ].join('\n');
}

function botocoreSign(
  method: string,
  path: string,
  query: [string, string][],
  headers: Record<string, string>,
  body: string,
  scope: { region: string; service: string; secret?: string },
): SignedRequest {
  const amzDate = headers['x-amz-date'];
  const credentialScope = `${amzDate.slice(0, 8)}/${scope.region}/${scope.service}/aws4_request`;
  const creq = botocoreCanonicalRequest(method, path, query, headers, body);
  const sts = ['AWS4-HMAC-SHA256', amzDate, credentialScope, sha256(creq)].join('\n');
  let k: Buffer = hmac(`AWS4${scope.secret ?? SECRET}`, amzDate.slice(0, 8));
  for (const part of [scope.region, scope.service, 'aws4_request']) k = hmac(k, part);
  const signature = createHmac('sha256', k).update(sts).digest('hex');
  const q: Record<string, string | string[]> = {};
  for (const [key, v] of query) q[key] = key in q ? ([] as string[]).concat(q[key], v) : v;
  return {
    method,
    path,
    query: q,
    headers: {
      ...headers,
      authorization: `AWS4-HMAC-SHA256 Credential=${KEY}/${credentialScope}, SignedHeaders=${Object.keys(headers).sort().join(';')}, Signature=${signature}`,
      'user-agent': 'Boto3/1.43.78 md/Botocore#1.43.67',
      'accept-encoding': 'identity',
      'amz-sdk-invocation-id': 'b1e3f0c2-0000-4000-8000-000000000000',
    },
    body,
  };
}

const BOTO_NOW = new Date('2026-11-24T05:23:02Z');
const ENCODED_INDEX_ARN = encodeURIComponent(INDEX_ARN);

describe('botocore oracle', () => {
  it('reproduces the canonical request boto3-wire.md logged for ListTagsForResource', () => {
    const creq = botocoreCanonicalRequest('GET', `/tags/${ENCODED_INDEX_ARN}`, [], { host: '127.0.0.1:18731', 'x-amz-date': '20261124T052302Z' }, '');
    expect(creq).toBe(
      [
        'GET',
        '/tags/arn%253Aaws%253As3vectors%253Aus-east-1%253A123456789012%253Abucket%252Fmedia-embeddings%252Findex%252Fmovies',
        '',
        'host:127.0.0.1:18731',
        'x-amz-date:20261124T052302Z',
        '',
        'host;x-amz-date',
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      ].join('\n'),
    );
  });
});

describe('verifySignature: requests as botocore signs them', () => {
  const h = (extra: Record<string, string> = {}) => ({ host: '127.0.0.1:18731', 'x-amz-date': '20261124T052302Z', ...extra });

  it('accepts a POST operation', async () => {
    const req = botocoreSign('POST', '/QueryVectors', [], h({ 'content-type': 'application/json' }), '{"topK": 3}', { region: 'us-east-1', service: 's3vectors' });
    await expect(verifySignature(req, lookup, opts(BOTO_NOW))).resolves.toBe(alice);
  });

  it('accepts the double-encoded tags paths (GET, POST, DELETE with repeated query keys)', async () => {
    const path = `/tags/${ENCODED_INDEX_ARN}`;
    const get = botocoreSign('GET', path, [], h(), '', { region: 'us-east-1', service: 's3vectors' });
    const post = botocoreSign('POST', path, [], h({ 'content-type': 'application/json' }), '{"tags": {"a": "b"}}', { region: 'us-east-1', service: 's3vectors' });
    const del = botocoreSign('DELETE', path, [['tagKeys', 'team'], ['tagKeys', 'cost center']], h(), '', { region: 'us-east-1', service: 's3vectors' });
    for (const req of [get, post, del]) await expect(verifySignature(req, lookup, opts(BOTO_NOW))).resolves.toBe(alice);
  });

  it('accepts a signed session token and the execute-api signing name', async () => {
    const req = botocoreSign('POST', '/GetIndex', [], h({ 'content-type': 'application/json', 'x-amz-security-token': 'FwoGZXIvYXdzEXAMPLE' }), '{}', { region: 'us-east-1', service: 'execute-api' });
    await expect(verifySignature(req, lookup, opts(BOTO_NOW))).resolves.toBe(alice);
  });

  it('rejects a body whose bytes differ from what was signed', async () => {
    const req = botocoreSign('POST', '/QueryVectors', [], h({ 'content-type': 'application/json' }), '{"topK": 3}', { region: 'us-east-1', service: 's3vectors' });
    const e = await rejection(verifySignature({ ...req, body: '{"topK": 4}' }, lookup, opts(BOTO_NOW)));
    expect([e.code, e.status, e.message]).toEqual(['InvalidSignatureException', 403, SIGNATURE_MISMATCH]);
  });

  it('rejects a path signed single-encoded (the router must pass the raw path)', async () => {
    const req = botocoreSign('GET', `/tags/${ENCODED_INDEX_ARN}`, [], h(), '', { region: 'us-east-1', service: 's3vectors' });
    const e = await rejection(verifySignature({ ...req, path: `/tags/${INDEX_ARN}` }, lookup, opts(BOTO_NOW)));
    expect(e.code).toBe('InvalidSignatureException');
  });
});

describe('verifySignature: requests as the JS SDK signs them', () => {
  it('accepts CreateVectorBucket, QueryVectors and the tags operations', async () => {
    const commands = [
      new CreateVectorBucketCommand({ vectorBucketName: 'media-embeddings', tags: { team: 'search' } }),
      new QueryVectorsCommand({ vectorBucketName: 'b', indexName: 'i', topK: 3, queryVector: { float32: [0.1, 0.2] }, filter: { genre: 'drama' } }),
      new ListTagsForResourceCommand({ resourceArn: INDEX_ARN }),
      new UntagResourceCommand({ resourceArn: INDEX_ARN, tagKeys: ['team', 'cost center'] }),
    ];
    for (const command of commands) {
      const req = await sdkRequest(command);
      await expect(verifySignature(req, lookup, opts(dateOf(req)))).resolves.toBe(alice);
    }
  });

  it('signs the tags path double-encoded, like botocore', async () => {
    const req = await sdkRequest(new ListTagsForResourceCommand({ resourceArn: INDEX_ARN }));
    expect(req.path).toBe(`/tags/${ENCODED_INDEX_ARN}`);
  });

  it('accepts a session token and the execute-api signing name', async () => {
    const req = await sdkRequest(new ListTagsForResourceCommand({ resourceArn: INDEX_ARN }), { sessionToken: 'token', service: 'execute-api' });
    expect(req.headers.authorization).toContain('/us-east-1/execute-api/aws4_request');
    expect(req.headers.authorization).toContain('x-amz-security-token');
    await expect(verifySignature(req, lookup, opts(dateOf(req)))).resolves.toBe(alice);
  });
});

describe('verifySignature: failures answer with AWS codes', () => {
  let req: SignedRequest;
  let now: Date;
  beforeAll(async () => {
    req = await sdkRequest(new QueryVectorsCommand({ vectorBucketName: 'b', indexName: 'i', topK: 3, queryVector: { float32: [1] } }));
    now = dateOf(req);
  });

  it('no Authorization header → MissingAuthenticationTokenException', async () => {
    const { authorization, ...headers } = req.headers;
    void authorization;
    const e = await rejection(verifySignature({ ...req, headers }, lookup, opts(now)));
    expect([e.code, e.status]).toEqual(['MissingAuthenticationTokenException', 403]);
  });

  it('unknown access key → UnrecognizedClientException', async () => {
    const e = await rejection(verifySignature(req, async () => undefined, opts(now)));
    expect([e.code, e.status, e.message]).toEqual(['UnrecognizedClientException', 403, 'The security token included in the request is invalid.']);
  });

  it('wrong secret → InvalidSignatureException', async () => {
    const e = await rejection(verifySignature(req, async () => ({ secretAccessKey: 'other', principal: alice }), opts(now)));
    expect([e.code, e.status, e.message]).toEqual(['InvalidSignatureException', 403, SIGNATURE_MISMATCH]);
  });

  it('tampered body or signed header → InvalidSignatureException', async () => {
    for (const tampered of [
      { ...req, body: String(req.body).replace('"topK":3', '"topK":4') },
      { ...req, headers: { ...req.headers, 'content-type': 'text/plain' } },
      { ...req, path: '/GetVectors' },
      { ...req, method: 'PUT' },
    ]) {
      const e = await rejection(verifySignature(tampered, lookup, opts(now)));
      expect(e.code).toBe('InvalidSignatureException');
    }
  });

  it('another region → InvalidSignatureException', async () => {
    const foreign = await sdkRequest(new ListTagsForResourceCommand({ resourceArn: INDEX_ARN }), { region: 'eu-west-1' });
    const e = await rejection(verifySignature(foreign, lookup, opts(dateOf(foreign))));
    expect([e.code, e.status]).toEqual(['InvalidSignatureException', 403]);
  });

  it('another service → InvalidSignatureException', async () => {
    const other = await sdkRequest(new ListTagsForResourceCommand({ resourceArn: INDEX_ARN }), { service: 'dynamodb' });
    const e = await rejection(verifySignature(other, lookup, opts(dateOf(other))));
    expect(e.code).toBe('InvalidSignatureException');
  });

  it('clock skew beyond 15 minutes → InvalidSignatureException saying it expired', async () => {
    const late = new Date(now.getTime() + 15 * 60_000 + 1000);
    const e = await rejection(verifySignature(req, lookup, opts(late)));
    expect(e.code).toBe('InvalidSignatureException');
    expect(e.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/);
    const early = new Date(now.getTime() - 16 * 60_000);
    expect((await rejection(verifySignature(req, lookup, opts(early)))).message).toMatch(/^Signature not yet current: /);
    await expect(verifySignature(req, lookup, opts(new Date(now.getTime() + 14 * 60_000)))).resolves.toBe(alice);
  });

  it('malformed Authorization or X-Amz-Date → IncompleteSignatureException (400)', async () => {
    for (const headers of [
      { ...req.headers, authorization: 'Basic abc' },
      { ...req.headers, authorization: 'AWS4-HMAC-SHA256 Credential=x' },
      { ...req.headers, 'x-amz-date': '2026-11-24' },
    ]) {
      const e = await rejection(verifySignature({ ...req, headers }, lookup, opts(now)));
      expect([e.code, e.status]).toEqual(['IncompleteSignatureException', 400]);
    }
  });

  it('compares signatures with crypto.timingSafeEqual', async () => {
    const spy = timingSafeEqual as jest.Mock;
    spy.mockClear();
    await verifySignature(req, lookup, opts(now));
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockClear();
    const shortSig = req.headers.authorization!.replace(/Signature=[0-9a-f]+/, 'Signature=abc');
    await rejection(verifySignature({ ...req, headers: { ...req.headers, authorization: shortSig } }, lookup, opts(now)));
    expect(spy).toHaveBeenCalledTimes(1);
  });
});

describe('verifySignature: fuzz', () => {
  let base: SignedRequest;
  let now: Date;
  beforeAll(async () => {
    base = await sdkRequest(new CreateVectorBucketCommand({ vectorBucketName: 'media-embeddings', tags: { team: 'search' } }));
    now = dateOf(base);
  });
  const onlyClientErrors = async (req: SignedRequest) => {
    try {
      await verifySignature(req, lookup, opts(now));
    } catch (e) {
      if (!(e instanceof ProtocolError || e instanceof ValidationError)) throw e;
      expect([400, 403]).toContain((e as ProtocolError).status);
    }
  };
  const headerName = fc.constantFrom('authorization', 'x-amz-date', 'host', 'content-type', 'x-amz-content-sha256', 'x-amz-security-token');

  it('mutated headers, dates and bodies give only 400/403 ProtocolErrors', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(headerName, fc.option(fc.string({ unit: 'binary' }), { nil: undefined })), { maxLength: 4 }),
        fc.option(fc.string({ unit: 'binary' }), { nil: undefined }),
        fc.option(fc.string(), { nil: undefined }),
        async (headerEdits, body, path) => {
          const headers = { ...base.headers };
          for (const [name, value] of headerEdits) headers[name] = value;
          await onlyClientErrors({ ...base, headers, body: body ?? base.body, path: path ?? base.path });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random Authorization headers around the real one give only 400/403 ProtocolErrors', async () => {
    const real = base.headers.authorization!;
    await fc.assert(
      fc.asyncProperty(fc.nat(real.length), fc.nat(real.length), fc.string({ unit: 'binary' }), async (from, to, insert) => {
        const authorization = real.slice(0, Math.min(from, to)) + insert + real.slice(Math.max(from, to));
        await onlyClientErrors({ ...base, headers: { ...base.headers, authorization } });
      }),
      { numRuns: 300 },
    );
  });

  it('entirely random requests give only 400/403 ProtocolErrors', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'),
        fc.string({ unit: 'binary' }),
        fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.array(fc.string()))),
        fc.dictionary(fc.string().map((s) => s.toLowerCase()), fc.string({ unit: 'binary' })),
        fc.uint8Array(),
        async (method, path, query, headers, body) => onlyClientErrors({ method, path, query, headers, body }),
      ),
      { numRuns: 300 },
    );
  });
});

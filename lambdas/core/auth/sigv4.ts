// Verifies AWS Signature Version 4 on a request by re-signing it with the SDK's own signer
// (@smithy/signature-v4) and comparing in constant time. Only parsing and AWS's error wording live
// here; the canonical request, string to sign and key derivation are the library's.
import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { ProtocolError } from '../errors';
import type { Principal } from './principal';

export interface SignedRequest {
  method: string;
  /** The path exactly as received, still percent-encoded (`/tags/arn%3Aaws%3A...`). */
  path: string;
  /** Decoded query parameters; repeated names as arrays. */
  query: Record<string, string | string[]>;
  /** Lower-case header names; a header sent more than once holds its values joined with ', '. */
  headers: Record<string, string | undefined>;
  /** Lower-case names of the headers that were sent more than once. */
  repeatedHeaders?: ReadonlySet<string>;
  /** The body bytes as received (a string is hashed as UTF-8). */
  body: string | Uint8Array;
  /** The body's SHA-256 in hex, when it was computed elsewhere (the local server's worker threads). */
  bodyHash?: string;
}

/** The secret of an access key and whoever it identifies (a Principal, or the caller's record). */
export interface SigningSecret<P = Principal> {
  secretAccessKey: string;
  principal: P;
}

/** Resolves an access key id to its secret; undefined for unknown or disabled keys. */
export type SecretLookup<P = Principal> = (accessKeyId: string) => Promise<SigningSecret<P> | undefined>;

export interface VerifyOptions {
  region: string;
  now: Date;
  /** Accepted signing names, e.g. ['s3vectors', 'execute-api']. */
  services: readonly string[];
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 15 * 60 * 1000;
const CONTENT_SHA256 = 'x-amz-content-sha256';
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

const missingToken = () => new ProtocolError('MissingAuthenticationTokenException', 403, 'Missing Authentication Token');
const incomplete = (msg: string) => new ProtocolError('IncompleteSignatureException', 400, msg);
const invalid = (msg: string = SIGNATURE_MISMATCH) => new ProtocolError('InvalidSignatureException', 403, msg);

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytesOf(data: SourceData): string | Buffer {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
}

/**
 * The signer's hash (its Checksum interface: SHA-256, or HMAC-SHA-256 with a secret) on Node's
 * native crypto: the same bytes as @aws-crypto/sha256-js, several times cheaper per request than
 * its pure-JS rounds (four hashes and HMACs on every verification).
 */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.start();
  }
  private start(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(this.secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  digest(): Promise<Uint8Array> {
    const out = this.hash.digest();
    return Promise.resolve(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
  }
  reset(): void {
    this.hash = this.start();
  }
}

interface ParsedAuthorization {
  accessKeyId: string;
  scopeDate: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

function parseAuthorization(header: string): ParsedAuthorization {
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  if (algorithm !== ALGORITHM) throw incomplete(`Unsupported AWS 'algorithm': '${algorithm.slice(0, 64)}'`);
  const params = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((k) => !params.get(k));
  if (missing.length) throw incomplete(missing.map((k) => `Authorization header requires '${k}' parameter.`).join(' '));
  const credential = params.get('Credential')!.split('/');
  if (credential.length !== 5 || credential.some((p) => p === '')) {
    throw incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term.");
  }
  const [accessKeyId, scopeDate, region, service, terminator] = credential;
  return {
    accessKeyId,
    scopeDate,
    region,
    service,
    terminator,
    signedHeaders: params.get('SignedHeaders')!.split(';'),
    signature: params.get('Signature')!,
  };
}

function parseAmzDate(value: string | undefined): Date {
  if (value === undefined) {
    throw incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  const m = AMZ_DATE.exec(value);
  const date = m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined;
  // Round-trip so 20261399T... is rejected instead of silently rolling over.
  if (!date || isNaN(date.getTime()) || amzDate(date) !== value) {
    throw incomplete(`Date must be in ISO-8601 'basic format'. Got '${value.slice(0, 64)}'. See http://en.wikipedia.org/wiki/ISO_8601`);
  }
  return date;
}

const amzDate = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');

function checkScope(auth: ParsedAuthorization, date: string, opts: VerifyOptions): void {
  if (auth.region !== opts.region) throw invalid('Credential should be scoped to a valid region. ');
  if (!opts.services.includes(auth.service)) {
    throw invalid(`Credential should be scoped to correct service: '${opts.services[0]}'. `);
  }
  if (auth.terminator !== 'aws4_request') {
    throw invalid(`Credential should be scoped with a valid terminator: 'aws4_request', not '${auth.terminator.slice(0, 64)}'. `);
  }
  if (auth.scopeDate !== date.slice(0, 8)) {
    throw invalid(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: ` +
        `'${auth.scopeDate.slice(0, 16)}' != '${date.slice(0, 8)}', from '${date}'.`,
    );
  }
  if (!auth.signedHeaders.includes('host')) {
    throw invalid("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
}

function checkClock(signedAt: Date, now: Date): void {
  const fmt = (ms: number) => amzDate(new Date(ms));
  const t = now.getTime();
  if (signedAt.getTime() < t - MAX_SKEW_MS) {
    throw invalid(`Signature expired: ${fmt(signedAt.getTime())} is now earlier than ${fmt(t - MAX_SKEW_MS)} (${fmt(t)} - 15 min.)`);
  }
  if (signedAt.getTime() > t + MAX_SKEW_MS) {
    throw invalid(`Signature not yet current: ${fmt(signedAt.getTime())} is still later than ${fmt(t + MAX_SKEW_MS)} (${fmt(t)} + 15 min.)`);
  }
}

/** The signature the client should have sent, computed by the SDK signer over the signed headers only. */
async function expectedSignature(req: SignedRequest, auth: ParsedAuthorization, secret: string, signedAt: Date): Promise<string> {
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    // The signer writes x-amz-date itself from signingDate (the same instant, so the same text).
    if (name === 'x-amz-date') continue;
    const value = req.headers[name];
    if (value === undefined) throw invalid();
    headers[name] = value;
  }
  // These clients send no x-amz-content-sha256: we hash the body ourselves and hand the signer the
  // hash through the header it reads, kept out of the canonical headers unless the client signed it.
  const bodyHash = req.bodyHash ?? createHash('sha256').update(req.body).digest('hex');
  if (auth.signedHeaders.includes(CONTENT_SHA256) && headers[CONTENT_SHA256] !== bodyHash) throw invalid();
  headers[CONTENT_SHA256] = bodyHash;

  const signer = new SignatureV4({
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey: secret },
    region: auth.region,
    service: auth.service,
    sha256: NodeSha256,
    // Both botocore and the JS SDK escape the already-encoded path again for non-S3 services.
    uriEscapePath: true,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    { method: req.method, protocol: 'https:', hostname: req.headers.host ?? '', path: req.path, query: req.query, headers, body: undefined },
    {
      signingDate: signedAt,
      signableHeaders: new Set(auth.signedHeaders),
      unsignableHeaders: auth.signedHeaders.includes(CONTENT_SHA256) ? undefined : new Set([CONTENT_SHA256]),
    },
  );
  const m = /SignedHeaders=([^,]*), Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization));
  // A signed header that vanished from the canonical set (e.g. `date`, which the signer regenerates) cannot match.
  if (!m || m[1] !== auth.signedHeaders.join(';')) throw invalid();
  return m[2];
}

function sameSignature(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(provided, 'utf8');
  // timingSafeEqual needs equal lengths; compare a with itself so a wrong length costs the same time.
  return a.length === b.length ? timingSafeEqual(a, b) : !timingSafeEqual(a, a);
}

/**
 * Authenticates a request signed with SigV4 in the Authorization header. Resolves to the
 * `principal` the lookup returned for the key;
 * rejects with the ProtocolError AWS answers with (403, or 400 for a malformed header).
 */
export async function verifySignature<P = Principal>(
  req: SignedRequest,
  lookupSecret: SecretLookup<P>,
  opts: VerifyOptions,
): Promise<P> {
  const header = req.headers.authorization;
  if (header === undefined || header.trim() === '') throw missingToken();
  // Two Authorization headers reach AWS joined into one value, which does not parse: AWS's answer.
  if (req.repeatedHeaders?.has('authorization')) {
    throw incomplete(`'${ALGORITHM}' not a valid key=value pair (missing equal-sign) in Authorization header: '${header.slice(0, 512)}'.`);
  }
  const auth = parseAuthorization(header.trim());
  // A signed header sent twice is ambiguous (which value was signed?): it cannot carry a valid signature.
  if (req.repeatedHeaders && ['host', 'x-amz-date', ...auth.signedHeaders].some((name) => req.repeatedHeaders!.has(name))) throw invalid();
  const dateHeader = req.headers['x-amz-date'];
  const signedAt = parseAmzDate(dateHeader);
  checkScope(auth, dateHeader!, opts);
  checkClock(signedAt, opts.now);

  const secret = await lookupSecret(auth.accessKeyId);
  if (!secret) throw new ProtocolError('UnrecognizedClientException', 403, 'The security token included in the request is invalid.');

  let expected: string;
  try {
    expected = await expectedSignature(req, auth, secret.secretAccessKey, signedAt);
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    // Input the signer cannot canonicalise (e.g. a lone surrogate in the path) cannot carry a valid signature.
    throw invalid();
  }
  if (!sameSignature(expected, auth.signature)) throw invalid();
  return secret.principal;
}

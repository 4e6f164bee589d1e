// Signed raw HTTP requests, for what the JS SDK cannot send: operations newer than the SDK on the
// registry (UpdateIndexMode, queryMode), and deliberately malformed bodies. Signed by the SDK's own signer.
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { REGION, TEST_CREDENTIALS } from './service';

export interface RawResponse {
  status: number;
  errorType?: string;
  body: Record<string, unknown>;
  headers: Headers;
}

export interface RawOptions {
  method?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  region?: string;
  service?: string;
  query?: Record<string, string | string[]>;
  unsigned?: boolean;
  headers?: Record<string, string>;
}

export async function signedRequest(url: string, path: string, body: unknown, options: RawOptions = {}): Promise<{ url: string; init: RequestInit }> {
  const endpoint = new URL(url);
  const method = options.method ?? 'POST';
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const request = {
    method,
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: Number(endpoint.port),
    path,
    query: options.query,
    headers: {
      host: endpoint.host,
      ...(text !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    body: text,
  };
  const signed = options.unsigned
    ? request
    : await new SignatureV4({
        credentials: options.credentials ?? TEST_CREDENTIALS,
        region: options.region ?? REGION,
        service: options.service ?? 's3vectors',
        sha256: Sha256,
      }).sign(request);
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(options.query ?? {})) for (const item of [v].flat()) query.append(k, item);
  const qs = query.toString();
  return {
    url: `${endpoint.origin}${path}${qs ? `?${qs.replace(/\+/g, '%20')}` : ''}`,
    init: { method, headers: signed.headers as Record<string, string>, body: text },
  };
}

export async function rawCall(url: string, path: string, body: unknown, options: RawOptions = {}): Promise<RawResponse> {
  const request = await signedRequest(url, path, body, options);
  const response = await fetch(request.url, request.init);
  const text = await response.text();
  return {
    status: response.status,
    errorType: response.headers.get('x-amzn-errortype') ?? undefined,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    headers: response.headers,
  };
}

/** POST /<Operation> with a JSON body. */
export function callOperation(url: string, operation: string, body: unknown, options: RawOptions = {}): Promise<RawResponse> {
  return rawCall(url, `/${operation}`, body, options);
}

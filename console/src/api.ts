// The console's only channel to the server: the public S3 Vectors API through the AWS SDK, signed
// with the keys the user signed in with (kept in memory and sessionStorage, never a cookie or URL).
// Operations the SDK does not know yet (index modes) and the status endpoint are signed by hand.
import { S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';

export interface Settings {
  region: string;
  auth: boolean;
}

export interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface ApiError {
  code: string;
  message: string;
  status?: number;
  fieldList?: { path: string; message: string }[];
}

const SESSION_KEY = 's3v-console-keys';
// With authentication off the server ignores signatures; the SDK still wants keys to sign with.
const ANONYMOUS: Keys = { accessKeyId: 'console', secretAccessKey: 'console' };

let settings: Settings = { region: 'us-east-1', auth: true };
let keys: Keys | undefined;
let client: S3VectorsClient | undefined;

export async function loadSettings(): Promise<Settings> {
  const response = await fetch('/console/settings.json', { cache: 'no-store' });
  settings = (await response.json()) as Settings;
  return settings;
}

export function currentSettings(): Settings {
  return settings;
}

export function storedKeys(): Keys | undefined {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    return raw ? (JSON.parse(raw) as Keys) : undefined;
  } catch {
    return undefined;
  }
}

export function useKeys(next: Keys | undefined, remember: boolean): void {
  keys = next;
  client?.destroy();
  client = undefined;
  if (next && remember) sessionStorage.setItem(SESSION_KEY, JSON.stringify(next));
  else sessionStorage.removeItem(SESSION_KEY);
}

export function signedInAs(): string | undefined {
  return settings.auth ? keys?.accessKeyId : undefined;
}

function credentials(): Keys {
  return settings.auth ? (keys ?? ANONYMOUS) : ANONYMOUS;
}

export function sdk(): S3VectorsClient {
  client ??= new S3VectorsClient({ endpoint: location.origin, region: settings.region, credentials: credentials(), maxAttempts: 1 });
  return client;
}

export function toApiError(error: unknown): ApiError {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; fieldList?: ApiError['fieldList']; code?: string };
  if (e && typeof e === 'object' && 'code' in e && typeof e.code === 'string' && !('$metadata' in e)) return e as ApiError;
  return {
    code: e?.name ?? 'Error',
    message: e?.message ?? String(error),
    status: e?.$metadata?.httpStatusCode,
    fieldList: e?.fieldList,
  };
}

/** POSTs `input` to `path`, signed as the operation `/${operation}` (the same signature the SDK makes). */
export async function signedCall<T>(operation: string, input: object, path = `/${operation}`): Promise<T> {
  const body = JSON.stringify(input);
  const origin = new URL(location.origin);
  const signer = new SignatureV4({ service: 's3vectors', region: settings.region, credentials: credentials(), sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: origin.protocol,
    hostname: origin.hostname,
    port: origin.port ? Number(origin.port) : undefined,
    path: `/${operation}`,
    query: {},
    headers: { host: origin.host, 'content-type': 'application/json' },
    body,
  });
  const headers: Record<string, string> = { ...signed.headers };
  delete headers.host; // the browser sends the same Host itself
  const response = await fetch(path, { method: 'POST', headers, body, cache: 'no-store' });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { message: text };
  }
  if (!response.ok) {
    const code = response.headers.get('x-amzn-errortype')?.split(':')[0] ?? `HTTP${response.status}`;
    throw { code, message: String(parsed.message ?? response.statusText), status: response.status, fieldList: parsed.fieldList } as ApiError;
  }
  return parsed as T;
}

export interface IndexDescription {
  vectorBucketName: string;
  indexName: string;
  indexArn: string;
  creationTime: number;
  dataType: string;
  dimension: number;
  distanceMetric: string;
  indexMode?: string;
  metadataConfiguration?: { nonFilterableMetadataKeys?: string[] };
}

export interface IndexFigures {
  rows: number;
  indexedRows: number | null;
  unindexedRows: number | null;
  fragments: number;
  totalBytes: number;
  indexes: string[];
  annThresholdRows: number;
  lastRun: { lastRunAt?: number; lastOutcome?: string; lastActions?: string[]; lastError?: string; lastDurationMs?: number } | null;
  nextDue: string | null;
  pending: string[];
}

export function getIndexRaw(vectorBucketName: string, indexName: string): Promise<{ index: IndexDescription }> {
  return signedCall('GetIndex', { vectorBucketName, indexName });
}

export function indexStatus(vectorBucketName: string, indexName: string): Promise<{ index: IndexDescription; figures: IndexFigures }> {
  return signedCall('GetIndex', { vectorBucketName, indexName }, '/console/api/index-status');
}

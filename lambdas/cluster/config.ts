// Where the server keeps its data when it is not the one-machine default: the vectors on any
// S3-compatible store (Lance's s3+ddb:// with its DynamoDB commit table) and the catalog on any
// DynamoDB-compatible service, so several processes can serve one set of buckets. The variable
// names are an interface (scripts rely on them) and match what the Lambdas read:
//   S3V_STORAGE_URI        s3+ddb://BUCKET/PREFIX?ddbTableName=COMMITS (default: <data-dir>/vectors)
//   S3V_STORAGE_OPTIONS    JSON of Lance storage options (aws_endpoint, allow_http, aws_region, dynamodb_endpoint, keys)
//   S3V_DYNAMODB_ENDPOINT  the catalog's DynamoDB endpoint (default: AWS's, when S3V_CATALOG_TABLE is set)
//   S3V_CATALOG_TABLE      the catalog table (default: the embedded catalog; s3vectors-catalog with an endpoint)
//   S3V_SECRET_KEY_FILE    32-byte base64 key sealing IAM secrets, shared by every process (external catalog)
// Credentials: the standard AWS chain (AWS_ACCESS_KEY_ID…, profiles, instance roles); Lance also
// takes aws_access_key_id / aws_secret_access_key from S3V_STORAGE_OPTIONS.
import type { LanceStoreOptions } from '../adapters/lance/lance-store';

export const DEFAULT_CLUSTER_CATALOG_TABLE = 's3vectors-catalog';

/** A misconfiguration or unusable backend, said in one line (printed as is, no stack). */
export class BackendError extends Error {
  readonly exitCode = 5;
}

export interface ExternalCatalog {
  /** Undefined: AWS's regional endpoint. */
  endpoint?: string;
  table: string;
  region: string;
}

export interface BackendConfig {
  /** Where the vectors live; undefined: the data directory. */
  storage?: LanceStoreOptions;
  /** Lance's commit table (from ?ddbTableName=) and the endpoint it is on, for s3+ddb:// storage. */
  commitTable?: { name: string; endpoint?: string; region: string };
  /** Undefined: the embedded catalog (one process). */
  catalog?: ExternalCatalog;
  secretKeyFile?: string;
}

function storageOptionsFromEnv(raw: string | undefined): Record<string, string> {
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    throw new BackendError(`error: S3V_STORAGE_OPTIONS is not valid JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new BackendError('error: S3V_STORAGE_OPTIONS must be a JSON object of Lance storage options');
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') throw new BackendError(`error: S3V_STORAGE_OPTIONS.${key} must be a string`);
    out[key] = String(value);
  }
  return out;
}

/**
 * The backend named by the environment; undefined when nothing is set (local disk, embedded catalog).
 * Throws BackendError for settings that cannot work (an external catalog needs shared s3+ddb:// storage).
 */
export function backendFromEnv(env: NodeJS.ProcessEnv, region: string): BackendConfig | undefined {
  const uri = env.S3V_STORAGE_URI?.trim();
  const dynamoEndpoint = env.S3V_DYNAMODB_ENDPOINT?.trim() || undefined;
  const catalogTable = env.S3V_CATALOG_TABLE?.trim() || undefined;
  if (!uri && !dynamoEndpoint && !catalogTable) {
    if (env.S3V_STORAGE_OPTIONS) throw new BackendError('error: S3V_STORAGE_OPTIONS is set but S3V_STORAGE_URI is not');
    return undefined;
  }
  const config: BackendConfig = { secretKeyFile: env.S3V_SECRET_KEY_FILE?.trim() || undefined };
  if (dynamoEndpoint || catalogTable) {
    if (dynamoEndpoint && !/^https?:\/\/[^/]+/.test(dynamoEndpoint)) throw new BackendError(`error: S3V_DYNAMODB_ENDPOINT must be an http(s) URL, not '${dynamoEndpoint}'`);
    config.catalog = { endpoint: dynamoEndpoint, table: catalogTable ?? DEFAULT_CLUSTER_CATALOG_TABLE, region };
  }
  if (uri) {
    const storageOptions = storageOptionsFromEnv(env.S3V_STORAGE_OPTIONS);
    const s3 = /^s3(\+ddb)?:\/\//.test(uri);
    if (uri.startsWith('s3+ddb://')) {
      const name = new URL(uri.replace(/^s3\+ddb/, 'http')).searchParams.get('ddbTableName');
      if (!name) throw new BackendError(`error: S3V_STORAGE_URI ${uri} needs ?ddbTableName=<commit table>`);
      // The commit table sits beside the catalog unless the options say otherwise.
      if (!storageOptions.dynamodb_endpoint && dynamoEndpoint) storageOptions.dynamodb_endpoint = dynamoEndpoint;
      config.commitTable = { name, endpoint: storageOptions.dynamodb_endpoint, region: storageOptions.aws_region ?? region };
    }
    if (s3 && !storageOptions.aws_region) storageOptions.aws_region = region;
    // Several processes write the same tables: look for the others' commits on every read.
    config.storage = { uri, storageOptions, readConsistencySeconds: s3 || config.catalog ? 0 : undefined };
  }
  if (config.catalog && !config.commitTable) {
    // Two processes committing to one Lance table need the commit table (and the write lease in it).
    throw new BackendError('error: an external catalog (S3V_DYNAMODB_ENDPOINT / S3V_CATALOG_TABLE) serves several processes: set S3V_STORAGE_URI to s3+ddb://BUCKET/PREFIX?ddbTableName=COMMITS');
  }
  return config;
}

/** s3+ddb://bucket/prefix?… → { bucket, prefix }. */
export function storageBucket(uri: string): { bucket: string; prefix: string } | undefined {
  const m = /^s3(?:\+ddb)?:\/\/([^/?]+)\/?([^?]*)/.exec(uri);
  return m ? { bucket: m[1], prefix: m[2] } : undefined;
}

/** The vector storage the S3V_* variables name, for tools beside the server (`npm run status`). */
export function storageFromEnv(env: NodeJS.ProcessEnv = process.env): LanceStoreOptions | undefined {
  return backendFromEnv(env, env.S3V_REGION ?? env.AWS_REGION ?? 'us-east-1')?.storage;
}

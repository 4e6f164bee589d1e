// Everything a deployment can tune. Defaults are Amazon S3 Vectors' documented limits, so an
// unconfigured server rejects exactly what AWS rejects; raise them with S3V_* environment variables.

export interface Limits {
  maxVectorsPerPut: number;
  maxKeysPerGet: number;
  maxKeysPerDelete: number;
  maxDimension: number;
  maxTopK: number;
  /** QueryVectors returns at most this many results per page, then a nextToken. */
  queryPageSize: number;
  maxListVectorsPageBytes: number;
  maxMetadataBytes: number;
  maxFilterableMetadataBytes: number;
  maxMetadataKeys: number;
  maxNonFilterableKeys: number;
  maxFilterBytes: number;
  maxIndexesPerBucket: number;
  maxBucketsPerRegion: number;
  maxTagsPerResource: number;
}

export const AWS_LIMITS: Limits = {
  maxVectorsPerPut: 500,
  maxKeysPerGet: 100,
  maxKeysPerDelete: 500,
  maxDimension: 4096,
  maxTopK: 10_000,
  queryPageSize: 100,
  maxListVectorsPageBytes: 1024 * 1024,
  maxMetadataBytes: 40 * 1024,
  maxFilterableMetadataBytes: 2 * 1024,
  maxMetadataKeys: 50,
  maxNonFilterableKeys: 10,
  maxFilterBytes: 64 * 1024,
  maxIndexesPerBucket: 10_000,
  maxBucketsPerRegion: 10_000,
  maxTagsPerResource: 50,
};

export interface ServiceConfig {
  region: string;
  accountId: string;
  limits: Limits;
  /** Pagination cursors expire after this many seconds. */
  cursorTtlSeconds: number;
  /**
   * AWS lets only buckets created before this instant (epoch seconds) use CLASSIC indexes;
   * moving it later lets a local user exercise CLASSIC behaviour.
   */
  classicModeCutoff: number;
}

const AWS_CLASSIC_CUTOFF = '2026-09-30T00:00:00Z';

/** The environment variable that sets each limit (also used by the CDK stack to pass its props). */
export const LIMIT_ENV: Record<keyof Limits, string> = {
  maxVectorsPerPut: 'S3V_MAX_VECTORS_PER_PUT',
  maxKeysPerGet: 'S3V_MAX_KEYS_PER_GET',
  maxKeysPerDelete: 'S3V_MAX_KEYS_PER_DELETE',
  maxDimension: 'S3V_MAX_DIMENSION',
  maxTopK: 'S3V_MAX_TOP_K',
  queryPageSize: 'S3V_QUERY_PAGE_SIZE',
  maxListVectorsPageBytes: 'S3V_MAX_LIST_PAGE_BYTES',
  maxMetadataBytes: 'S3V_MAX_METADATA_BYTES',
  maxFilterableMetadataBytes: 'S3V_MAX_FILTERABLE_METADATA_BYTES',
  maxMetadataKeys: 'S3V_MAX_METADATA_KEYS',
  maxNonFilterableKeys: 'S3V_MAX_NON_FILTERABLE_KEYS',
  maxFilterBytes: 'S3V_MAX_FILTER_BYTES',
  maxIndexesPerBucket: 'S3V_MAX_INDEXES_PER_BUCKET',
  maxBucketsPerRegion: 'S3V_MAX_BUCKETS',
  maxTagsPerResource: 'S3V_MAX_TAGS',
};

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got '${raw}'`);
  return value;
}

function epochSeconds(iso: string, name: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`${name} must be an ISO-8601 date, got '${iso}'`);
  return ms / 1000;
}

export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env): Limits {
  const limits = { ...AWS_LIMITS };
  for (const key of Object.keys(LIMIT_ENV) as (keyof Limits)[]) {
    limits[key] = positiveInt(env, LIMIT_ENV[key], AWS_LIMITS[key]);
  }
  return limits;
}

export function serviceConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const accountId = env.S3V_ACCOUNT_ID ?? '123456789012';
  if (!/^[0-9]{12}$/.test(accountId)) throw new Error(`S3V_ACCOUNT_ID must be 12 digits, got '${accountId}'`);
  return {
    region: env.S3V_REGION ?? env.AWS_REGION ?? 'us-east-1',
    accountId,
    limits: limitsFromEnv(env),
    cursorTtlSeconds: positiveInt(env, 'S3V_CURSOR_TTL_SECONDS', 600),
    classicModeCutoff: epochSeconds(env.S3V_CLASSIC_MODE_CUTOFF ?? AWS_CLASSIC_CUTOFF, 'S3V_CLASSIC_MODE_CUTOFF'),
  };
}

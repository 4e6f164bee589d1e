// `--help` and `--version` for the server command. The limit and maintenance sections are generated
// from the tables the server reads, so the help cannot drift from what is honoured.
import { AWS_LIMITS, LIMIT_ENV, type Limits } from '../lambdas/core/config';
import { DEFAULT_SEARCH_SETTINGS as search } from '../lambdas/adapters/lance/search-plan';
import { DEFAULT_MAINTENANCE_CONFIG, MAINTENANCE_ENV } from '../lambdas/maintenance/config';
import packageJson from '../package.json';

export const VERSION: string = packageJson.version;

function rows(entries: [string, string, string][]): string {
  const width = Math.max(...entries.map(([name]) => name.length));
  return entries.map(([name, value, meaning]) => `  ${name.padEnd(width)}  ${value.padEnd(10)} ${meaning}`).join('\n');
}

export function usage(command: string): string {
  const limits = (Object.keys(LIMIT_ENV) as (keyof Limits)[]).map((key): [string, string, string] => [LIMIT_ENV[key], String(AWS_LIMITS[key]), key]);
  const maintenance = (Object.keys(MAINTENANCE_ENV) as (keyof typeof MAINTENANCE_ENV)[]).map((key): [string, string, string] => [
    MAINTENANCE_ENV[key],
    String(DEFAULT_MAINTENANCE_CONFIG[key] ?? '-'),
    key,
  ]);
  return `open-s3vectors ${VERSION}: the Amazon S3 Vectors API on LanceDB, on this machine.

Usage:
  ${command} [--host 127.0.0.1] [--port 8000] [--data-dir ./data] [--no-auth]
  ${command} iam <command> ...      manage IAM users, keys and policies (iam --help)
  ${command} status                 per-index maintenance figures
  ${command} health                 exit 0 if the server on S3V_PORT answers a signed call
  ${command} setup-storage          create the tables of an external backend (S3V_STORAGE_URI…)
  ${command} --help | --version

Server (flag / environment variable, default):
  --host, S3V_HOST                127.0.0.1  listen address (S3V_AUTH=off only on loopback)
  --port, S3V_PORT                8000       listen port (0: any free port)
  --data-dir, S3V_DATA_DIR        ./data     vectors, catalog and root credentials
  --no-auth, S3V_AUTH=off         on         accept unsigned requests (throwaway local use)
  S3V_REGION                      us-east-1  region in ARNs and the SigV4 scope
  S3V_ACCOUNT_ID                  123456789012  account id in ARNs
  S3V_ROOT_ACCESS_KEY_ID, S3V_ROOT_SECRET_ACCESS_KEY   generated   the root user's key
  S3V_CURSOR_TTL_SECONDS          600        lifetime of pagination tokens
  S3V_CLASSIC_MODE_CUTOFF         2026-09-30T00:00:00Z  buckets created before may use CLASSIC
  S3V_LOG_LEVEL                   info       JSON logs on stderr (pino levels)
  S3V_CONSOLE=off                 on         the web console at /console

Storage (default: the data directory and an embedded catalog, one process):
  S3V_STORAGE_URI                 <data-dir>/vectors  s3+ddb://BUCKET/PREFIX?ddbTableName=COMMITS
  S3V_STORAGE_OPTIONS             -          JSON of Lance storage options (aws_endpoint, allow_http, keys…)
  S3V_DYNAMODB_ENDPOINT           -          a shared catalog on this DynamoDB-compatible endpoint
  S3V_CATALOG_TABLE               s3vectors-catalog  the shared catalog's table
  S3V_SECRET_KEY_FILE             -          key sealing IAM secrets, the same file on every process
  Credentials: the AWS chain (AWS_ACCESS_KEY_ID…). Several processes: see the README.

Search:
  S3V_FAST_SEARCH                 0          1: search indexed rows only
  S3V_SEARCH_EF                   ${search.ef}         HNSW beam width
  S3V_SEARCH_FILTERED_EF          ${search.filteredEf}         HNSW beam width, filtered queries
  S3V_SEARCH_REFINE_FACTOR        ${search.refineFactor}          re-rank this many × topK exactly
  S3V_EXACT_FILTER_MAX_ROWS       ${search.exactFilterMaxRows}       exact search when at most this many rows match

Limits (AWS's values by default):
${rows(limits)}

Maintenance (S3V_MAINT=off disables it):
${rows(maintenance)}
  S3V_MAINT_VECTOR_INDEX          ${DEFAULT_MAINTENANCE_CONFIG.vectorIndex.padEnd(10)} or IVF_PQ
`;
}

// Checking and setting up an external backend: the catalog table, Lance's commit table, the bucket.
// Every failure becomes one BackendError line naming what is wrong and what to do; the server runs
// the checks at start (refusing a backend that is not set up), `npm run setup-storage` the setup.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceInUseException, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import * as lancedb from '@lancedb/lancedb';
import { DynamoCatalog } from '../adapters/dynamo-catalog';
import type { LanceStoreOptions } from '../adapters/lance/lance-store';
import { BackendError, storageBucket, type BackendConfig, type ExternalCatalog } from './config';

const SETUP_HINT = 'run `npm run setup-storage` with the same S3V_* variables';
const CHECK_TIMEOUT_MS = 10_000;

export function externalCatalogClient(catalog: ExternalCatalog, maxAttempts?: number): DynamoDBClient {
  return new DynamoDBClient({ region: catalog.region, ...(catalog.endpoint ? { endpoint: catalog.endpoint } : {}), ...(maxAttempts ? { maxAttempts } : {}) });
}

function reason(e: unknown): string {
  const err = e as { name?: string; code?: string; message?: string; cause?: { code?: string }; errors?: { code?: string }[] };
  return err?.code ?? err?.cause?.code ?? err?.errors?.[0]?.code ?? err?.name ?? String(e);
}

/** What a DynamoDB failure means, as one line about `what` (the catalog / the commit table). */
function dynamoError(e: unknown, what: string, where: string): BackendError {
  const name = (e as { name?: string })?.name ?? '';
  const message = String((e as Error)?.message ?? e);
  if (name === 'ResourceNotFoundException') return new BackendError(`error: ${what} does not exist at ${where}: ${SETUP_HINT}`);
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return new BackendError(`error: no AWS credentials for ${what} at ${where}: set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)`);
  }
  if (/UnrecognizedClient|InvalidSignature|AccessDenied|MissingAuthenticationToken|SignatureDoesNotMatch|InvalidAccessKeyId/.test(name)) {
    return new BackendError(`error: ${where} rejected the credentials for ${what} (${name}): check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY`);
  }
  if (/^\$?metadata|Unknown|Deserializ/.test(name) || /Deserializ|Unexpected token|not valid JSON/i.test(message)) {
    return new BackendError(`error: ${where} does not answer like DynamoDB (${name || message.slice(0, 80)}): check S3V_DYNAMODB_ENDPOINT / dynamodb_endpoint`);
  }
  return new BackendError(`error: cannot reach ${what} at ${where} (${reason(e)}): check S3V_DYNAMODB_ENDPOINT / dynamodb_endpoint and that the service runs`);
}

async function describe(client: DynamoDBClient, table: string) {
  const out = await client.send(new DescribeTableCommand({ TableName: table }), { abortSignal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
  return out.Table;
}

function keyNames(table: Awaited<ReturnType<typeof describe>>): string {
  return (table?.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');
}

const CATALOG_KEYS = 'pk:HASH,sk:RANGE';
const COMMIT_KEYS = 'base_uri:HASH,version:RANGE';

async function checkTable(client: DynamoDBClient, table: string, keys: string, what: string, where: string): Promise<void> {
  let found;
  try {
    found = await describe(client, table);
  } catch (e) {
    throw dynamoError(e, what, where);
  }
  if (keyNames(found) !== keys) throw new BackendError(`error: ${what} at ${where} has key schema ${keyNames(found) || 'none'}, expected ${keys}: it is some other table; choose another name`);
}

function commitClient(config: BackendConfig, maxAttempts?: number): DynamoDBClient | undefined {
  const commit = config.commitTable;
  return commit && externalCatalogClient({ endpoint: commit.endpoint, table: commit.name, region: commit.region }, maxAttempts);
}

const endpointOf = (endpoint: string | undefined, region: string) => endpoint ?? `DynamoDB in ${region}`;

/** What an object-store failure from Lance means, as one line. */
function storeError(e: unknown, storage: LanceStoreOptions): BackendError {
  const message = String((e as Error)?.message ?? e);
  const bucket = storageBucket(storage.uri)?.bucket ?? storage.uri;
  const at = storage.storageOptions?.aws_endpoint ?? 'AWS S3';
  if (/NoSuchBucket|status: 404/.test(message)) return new BackendError(`error: bucket '${bucket}' does not exist at ${at}: create it (e.g. mc mb, aws s3 mb), then ${SETUP_HINT}`);
  if (/status: 40[13]|InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied/.test(message)) {
    const code = /<Code>([^<]+)<\/Code>/.exec(message)?.[1] ?? /status: (\d+)/.exec(message)?.[1];
    return new BackendError(`error: ${at} rejected the credentials for bucket '${bucket}' (${code}): check aws_access_key_id / aws_secret_access_key in S3V_STORAGE_OPTIONS or the AWS credential chain`);
  }
  if (/Connect|connection|dns|resolve|timed out|timeout/i.test(message)) return new BackendError(`error: cannot reach the object store at ${at}: check aws_endpoint in S3V_STORAGE_OPTIONS and that the store runs`);
  return new BackendError(`error: the object store at ${at} failed for ${storage.uri}: ${message.split('\n')[0].slice(0, 200)}`);
}

/** Few retries for a check: a wrong endpoint should fail in seconds, not after object_store's 3 minutes. */
function checkOptions(storage: LanceStoreOptions): Record<string, string> {
  return { client_max_retries: '1', client_retry_timeout: '5', ...storage.storageOptions };
}

async function checkStore(storage: LanceStoreOptions, write: boolean): Promise<void> {
  try {
    const db = await lancedb.connect(storage.uri, { storageOptions: checkOptions(storage) });
    await db.tableNames();
    if (!write) return;
    // A real commit: the bucket takes writes with these keys, and (s3+ddb) the commit table works.
    const name = `setup-probe-${randomBytes(6).toString('hex')}`;
    await db.createTable(name, [{ probe: 1 }]);
    await db.dropTable(name);
  } catch (e) {
    if (e instanceof BackendError) throw e;
    throw storeError(e, storage);
  }
}

/**
 * The server's start-up check: every part exists and answers (catalog first: it fails fastest).
 * Returns the shared sealing key when the catalog is external.
 */
export async function checkBackend(config: BackendConfig): Promise<{ secretKey?: Buffer }> {
  let secretKey: Buffer | undefined;
  if (config.catalog) {
    if (!config.secretKeyFile) throw new BackendError(`error: an external catalog needs S3V_SECRET_KEY_FILE (the same key file on every process, sealing IAM secrets): ${SETUP_HINT} to create it`);
    secretKey = readSecretKey(config.secretKeyFile);
    const client = externalCatalogClient(config.catalog, 2);
    try {
      await checkTable(client, config.catalog.table, CATALOG_KEYS, `the catalog table '${config.catalog.table}'`, endpointOf(config.catalog.endpoint, config.catalog.region));
    } finally {
      client.destroy();
    }
  }
  const commits = commitClient(config, 2);
  if (commits) {
    try {
      const c = config.commitTable!;
      await checkTable(commits, c.name, COMMIT_KEYS, `the commit table '${c.name}'`, endpointOf(c.endpoint, c.region));
    } finally {
      commits.destroy();
    }
  }
  if (config.storage && /^s3/.test(config.storage.uri)) await checkStore(config.storage, false);
  return { secretKey };
}

async function createTable(client: DynamoDBClient, table: string, keys: [string, 'S' | 'N'][], what: string, where: string): Promise<'created' | 'exists'> {
  let outcome: 'created' | 'exists' = 'created';
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: keys.map(([name, type]) => ({ AttributeName: name, AttributeType: type })),
        KeySchema: keys.map(([name], i) => ({ AttributeName: name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
        BillingMode: 'PAY_PER_REQUEST',
      }),
      { abortSignal: AbortSignal.timeout(CHECK_TIMEOUT_MS) },
    );
  } catch (e) {
    if (!(e instanceof ResourceInUseException)) throw dynamoError(e, what, where);
    outcome = 'exists';
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: table }).catch((e) => {
    throw dynamoError(e, what, where);
  });
  return outcome;
}

export interface SetupStep {
  what: string;
  outcome: string;
}

/** `npm run setup-storage`: creates what is missing, checks what exists; safe to run again. */
export async function setupBackend(config: BackendConfig): Promise<SetupStep[]> {
  const steps: SetupStep[] = [];
  if (config.catalog) {
    const where = endpointOf(config.catalog.endpoint, config.catalog.region);
    const what = `the catalog table '${config.catalog.table}'`;
    const client = externalCatalogClient(config.catalog, 2);
    try {
      const outcome = await createTable(client, config.catalog.table, [['pk', 'S'], ['sk', 'S']], what, where);
      await checkTable(client, config.catalog.table, CATALOG_KEYS, what, where);
      // ensureTable is what the embedded catalog runs: the same table, nothing else to add.
      await new DynamoCatalog(client, config.catalog.table).ensureTable().catch((e) => {
        throw dynamoError(e, what, where);
      });
      steps.push({ what: `catalog table ${config.catalog.table} at ${where}`, outcome: outcome === 'created' ? 'created' : 'already there' });
    } finally {
      client.destroy();
    }
  }
  const commits = commitClient(config, 2);
  if (commits) {
    const c = config.commitTable!;
    const where = endpointOf(c.endpoint, c.region);
    const what = `the commit table '${c.name}'`;
    try {
      const outcome = await createTable(commits, c.name, [['base_uri', 'S'], ['version', 'N']], what, where);
      await checkTable(commits, c.name, COMMIT_KEYS, what, where);
      steps.push({ what: `commit table ${c.name} at ${where}`, outcome: outcome === 'created' ? 'created' : 'already there' });
    } finally {
      commits.destroy();
    }
  }
  if (config.storage && /^s3/.test(config.storage.uri)) {
    await checkStore(config.storage, true);
    steps.push({ what: `bucket ${storageBucket(config.storage.uri)?.bucket} at ${config.storage.storageOptions?.aws_endpoint ?? 'AWS S3'}`, outcome: 'reachable, writable' });
  }
  if (config.catalog && config.secretKeyFile) {
    steps.push({ what: `secret key ${config.secretKeyFile}`, outcome: ensureSecretKeyFile(config.secretKeyFile) });
  }
  return steps;
}

/** Creates the shared sealing key (32 random bytes, base64, mode 0600) unless it exists. */
export function ensureSecretKeyFile(file: string): 'created' | 'already there' {
  if (existsSync(file)) {
    readSecretKey(file);
    return 'already there';
  }
  try {
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new BackendError(`error: cannot create S3V_SECRET_KEY_FILE ${file} (${(e as NodeJS.ErrnoException).code})`);
  }
  return 'created';
}

/** The shared key that seals IAM secrets in the external catalog: the same file on every process. */
export function readSecretKey(file: string): Buffer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new BackendError(`error: cannot read S3V_SECRET_KEY_FILE ${file} (${(e as NodeJS.ErrnoException).code}): ${SETUP_HINT} to create it, and give every process the same file`);
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new BackendError(`error: S3V_SECRET_KEY_FILE ${file} is not a 32-byte base64 key`);
  return key;
}

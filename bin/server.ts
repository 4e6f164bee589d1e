// `npm start`: the S3 Vectors API on http://127.0.0.1:8000, data under ./data, SigV4 required.
// Exit codes: 0 stopped by SIGTERM/SIGINT, 1 failure, 2 bad usage, 3 the port cannot be bound,
// 4 the data directory cannot be used, 5 the configured S3/DynamoDB backend is unreachable or not set up.
import '../lambdas/local/quiet-sdk';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { serviceConfigFromEnv } from '../lambdas/core/config';
import { startConfiguredService } from '../lambdas/cluster/start';
import { BackendError } from '../lambdas/cluster/config';
import { assertOwnDataDir, DataDirNotOwned } from '../lambdas/local/private-files';
import { loadRootCredentials, ROOT_CREDENTIALS_FILE } from '../lambdas/local/root-credentials';
import { logger } from '../lambdas/runtime/logger';
import { consoleFromEnv } from '../lambdas/console/route';
import { usage, VERSION } from './usage';
import { startMemoryLog } from '../lambdas/local/mem-log';
import { lanceCacheSettings } from '../lambdas/adapters/lance/cache-session';

// Everything the server creates (catalog, vectors, keys) is readable by its own user only.
process.umask(0o077);

/** Stops within this much after SIGTERM/SIGINT: requests in flight finish, then connections are cut. */
const SHUTDOWN_GRACE_MS = 4_000;

class StartError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: process.env.S3V_HOST ?? '127.0.0.1' },
    port: { type: 'string', default: process.env.S3V_PORT ?? '8000' },
    'data-dir': { type: 'string', default: process.env.S3V_DATA_DIR ?? './data' },
    'no-auth': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
    version: { type: 'boolean', short: 'v', default: false },
  },
});

if (values.help) {
  console.log(usage(process.env.npm_lifecycle_event === 'start' ? 'npm start --' : 'open-s3vectors'));
  process.exit(0);
}
if (values.version) {
  console.log(VERSION);
  process.exit(0);
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** Fails with exit code 4 and the reason when `dataDir` cannot be created or written. */
function checkDataDir(dataDir: string): void {
  try {
    // Before anything is read from it (root-credentials.json) or created in it.
    assertOwnDataDir(dataDir);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const probe = join(dataDir, `.write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (e) {
    if (e instanceof DataDirNotOwned) throw new StartError(`error: ${e.message}`, 4);
    const err = e as NodeJS.ErrnoException;
    throw new StartError(`error: the data directory ${dataDir} is not usable (${err.code ?? err.message}): pass a writable folder with --data-dir or S3V_DATA_DIR`, 4);
  }
}

function startFailure(error: unknown, host: string, port: number, dataDir: string): unknown {
  const err = error as NodeJS.ErrnoException;
  if (err?.code === 'EADDRINUSE') return new StartError(`error: port ${port} on ${host} is already in use: stop the other server or pass --port (or S3V_PORT)`, 3);
  if (err?.code === 'EACCES' && err.syscall === 'listen') return new StartError(`error: no permission to listen on ${host}:${port}: choose a port above 1023 with --port`, 3);
  if (err?.code === 'EADDRNOTAVAIL') return new StartError(`error: ${host} is not an address of this machine: pass --host`, 3);
  if (/another server is using this data directory/.test(String(err?.message))) return new StartError(`error: ${err.message} (${dataDir}): stop it or pass another --data-dir`, 4);
  return error;
}

function printCredentials(url: string, region: string, accessKeyId: string, secretAccessKey: string, where: string): void {
  console.log(`
Root credentials (${where}):
  aws_access_key_id     = ${accessKeyId}
  aws_secret_access_key = ${secretAccessKey}

boto3:
  import boto3
  s3v = boto3.client("s3vectors", endpoint_url="${url}", region_name="${region}",
                     aws_access_key_id="${accessKeyId}", aws_secret_access_key="${secretAccessKey}")
  print(s3v.list_vector_buckets())

AWS CLI:
  AWS_ACCESS_KEY_ID=${accessKeyId} AWS_SECRET_ACCESS_KEY=${secretAccessKey} \\
    aws s3vectors list-vector-buckets --endpoint-url ${url} --region ${region}
`);
}

async function main(): Promise<void> {
  const config = serviceConfigFromEnv();
  const dataDir = values['data-dir']!;
  const host = values.host!;
  const authOff = values['no-auth'] || process.env.S3V_AUTH === 'off';
  const port = Number(values.port);
  if (authOff && !isLoopback(host)) {
    throw new StartError(`Refusing to serve without authentication on ${host}: only loopback addresses may run with S3V_AUTH=off`, 2);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new StartError(`error: --port must be a number from 0 to 65535, not '${values.port}'`, 2);
  try {
    lanceCacheSettings();
  } catch (error) {
    throw new StartError(`error: ${(error as Error).message}`, 2);
  }
  checkDataDir(dataDir);
  const root = authOff ? undefined : loadRootCredentials(dataDir);
  const service = await startConfiguredService({
    dataDir,
    config,
    host,
    port,
    auth: root ? { root: root.credentials } : 'off',
    extraRoutes: (context) => consoleFromEnv(context),
  }).catch((error) => {
    throw startFailure(error, host, port, dataDir);
  });
  startMemoryLog();
  logger.info({ url: service.url, dataDir, region: config.region, accountId: config.accountId, auth: !authOff }, 'S3 Vectors endpoint ready');
  console.log(`open-s3vectors listening on ${service.url} (data in ${dataDir}, region ${config.region}, account ${config.accountId})`);
  if (process.env.S3V_CONSOLE !== 'off') console.log(`console: ${service.url}/console`);
  if (authOff) {
    console.warn('\n*** AUTHENTICATION IS OFF: every request is accepted as the root user, unsigned. Local throwaway use only. ***\n');
  } else if (root!.source === 'generated') {
    // The secret is shown this once; afterwards only where it is kept.
    printCredentials(service.url, config.region, root!.credentials.accessKeyId, root!.credentials.secretAccessKey, `generated now, saved to ${join(dataDir, ROOT_CREDENTIALS_FILE)}`);
  } else if (root!.source === 'file') {
    console.log(`Root credentials: access key ${root!.credentials.accessKeyId}; the secret is in ${join(dataDir, ROOT_CREDENTIALS_FILE)} (readable by you only)`);
  } else {
    console.log('Root credentials: from S3V_ROOT_ACCESS_KEY_ID / S3V_ROOT_SECRET_ACCESS_KEY');
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      console.error(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    const started = Date.now();
    logger.info({ signal }, 'stopping: finishing requests in flight');
    try {
      await service.close({ graceMs: SHUTDOWN_GRACE_MS });
      console.log(`open-s3vectors stopped (${signal}, ${Date.now() - started} ms)`);
      process.exit(0);
    } catch (error) {
      console.error(`error while stopping: ${(error as Error)?.message ?? error}`);
      process.exit(1);
    }
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error) => {
  // One line saying what to fix, and the exit code documented above.
  if (error instanceof StartError || error instanceof BackendError) {
    console.error(error.message);
    process.exit(error.exitCode);
  }
  logger.error({ err: error }, 'failed to start');
  console.error(String(error?.message ?? error));
  process.exit(1);
});

// `npm start`: the S3 Vectors API on http://127.0.0.1:8000, data under ./data, SigV4 required.
import { mkdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { serviceConfigFromEnv } from '../lambdas/core/config';
import { startConfiguredService } from '../lambdas/cluster/start';
import { BackendError } from '../lambdas/cluster/config';
import { loadRootCredentials, ROOT_CREDENTIALS_FILE } from '../lambdas/local/root-credentials';
import { logger } from '../lambdas/runtime/logger';
import { usage, VERSION } from './usage';

// The SDK's notice about Node releases it will drop is noise for a server on a Node we support.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { consoleFromEnv } from '../lambdas/console/route';

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
  if (authOff && !isLoopback(host)) {
    throw new Error(`Refusing to serve without authentication on ${host}: only loopback addresses may run with S3V_AUTH=off`);
  }
  mkdirSync(dataDir, { recursive: true });
  const root = authOff ? undefined : loadRootCredentials(dataDir);
  const service = await startConfiguredService({
    dataDir,
    config,
    host,
    port: Number(values.port),
    auth: root ? { root: root.credentials } : 'off',
    extraRoutes: (context) => consoleFromEnv(context),
  });
  logger.info({ url: service.url, dataDir, region: config.region, accountId: config.accountId, auth: !authOff }, 'S3 Vectors endpoint ready');
  console.log(`open-s3vectors listening on ${service.url} (data in ${dataDir}, region ${config.region}, account ${config.accountId})`);
  if (process.env.S3V_CONSOLE !== 'off') console.log(`console: ${service.url}/console`);
  if (authOff) {
    console.warn('\n*** AUTHENTICATION IS OFF: every request is accepted as the root user, unsigned. Local throwaway use only. ***\n');
  } else if (root!.source !== 'environment') {
    const where = root!.source === 'generated' ? `generated now, saved to ${dataDir}/${ROOT_CREDENTIALS_FILE}` : `from ${dataDir}/${ROOT_CREDENTIALS_FILE}`;
    printCredentials(service.url, config.region, root!.credentials.accessKeyId, root!.credentials.secretAccessKey, where);
  } else {
    console.log('Root credentials: from S3V_ROOT_ACCESS_KEY_ID / S3V_ROOT_SECRET_ACCESS_KEY');
  }
  const stop = async () => {
    await service.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error) => {
  if (error instanceof BackendError) (console.error(error.message), process.exit(error.exitCode)); // one line: what to fix
  logger.error({ err: error }, 'failed to start');
  console.error(String(error?.message ?? error));
  process.exit(1);
});

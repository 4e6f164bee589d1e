// `npm start`: the S3 Vectors API on http://127.0.0.1:8000, data under ./data.
import { parseArgs } from 'node:util';
import { serviceConfigFromEnv } from '../lambdas/core/config';
import { startLocalService } from '../lambdas/local/local-service';
import { logger } from '../lambdas/runtime/logger';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: process.env.S3V_HOST ?? '127.0.0.1' },
    port: { type: 'string', default: process.env.S3V_PORT ?? '8000' },
    'data-dir': { type: 'string', default: process.env.S3V_DATA_DIR ?? './data' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log('Usage: npm start -- [--host 127.0.0.1] [--port 8000] [--data-dir ./data]');
  process.exit(0);
}

async function main(): Promise<void> {
  const config = serviceConfigFromEnv();
  const service = await startLocalService({
    dataDir: values['data-dir']!,
    config,
    host: values.host,
    port: Number(values.port),
  });
  logger.info({ url: service.url, dataDir: values['data-dir'], region: config.region, accountId: config.accountId }, 'S3 Vectors endpoint ready');
  console.log(`open-s3vectors listening on ${service.url} (data in ${values['data-dir']})`);
  const stop = async () => {
    await service.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error) => {
  logger.error({ err: error }, 'failed to start');
  process.exit(1);
});

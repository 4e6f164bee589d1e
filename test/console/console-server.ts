// Starts the real local service with the console mounted (as bin/server.ts does) for the tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceConfigFromEnv } from '../../lambdas/core/config';
import { consoleRoute } from '../../lambdas/console/route';
import { startLocalService, type LocalService } from '../../lambdas/local/local-service';
import { ACCOUNT, REGION, TEST_CREDENTIALS, clientFor } from '../helpers/service';

export async function startConsoleService(options: { auth?: boolean; console?: boolean; bundleDir?: string } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 's3v-console-'));
  const service: LocalService = await startLocalService({
    dataDir,
    config: serviceConfigFromEnv({ S3V_REGION: REGION, S3V_ACCOUNT_ID: ACCOUNT }),
    inMemoryCatalog: true,
    auth: options.auth === false ? 'off' : { root: TEST_CREDENTIALS },
    maintenance: false,
    extraRoutes: options.console === false ? undefined : (context) => consoleRoute({ ...context, bundleDir: options.bundleDir }),
  });
  const client = clientFor(service.url);
  return {
    url: service.url,
    client,
    service,
    close: async () => {
      client.destroy();
      await service.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

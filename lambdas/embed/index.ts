// The programmatic door for test suites (the mongodb-memory-server pattern): one call starts the same
// local service `npm start` runs, on its own port and data folder, and returns what a client needs.
import { S3VectorsClient, type S3VectorsClientConfig } from '@aws-sdk/client-s3vectors';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateAccessKey } from '../core/auth/identities';
import { serviceConfigFromEnv } from '../core/config';
import type { LanceStoreOptions } from '../adapters/lance/lance-store';
import { startLocalService, type LocalService } from '../local/local-service';
import { maintenanceConfigFromEnv, type MaintenanceConfig } from '../maintenance/config';

export type { MaintenanceConfig } from '../maintenance/config';

export interface S3VectorsOptions {
  /** Listen port; 0 (the default) picks a free one. */
  port?: number;
  /** Listen address; loopback by default. */
  host?: string;
  /** Keep data here (kept on stop). Default: a new temp folder, removed on stop. */
  dataDir?: string;
  /**
   * SigV4 as on AWS with these root keys (default: random keys, returned as `credentials`);
   * `false` accepts unsigned requests.
   */
  auth?: { accessKeyId: string; secretAccessKey: string; /** IAM decision cache, ms (default 5,000). */ decisionCacheMs?: number } | false;
  region?: string;
  accountId?: string;
  /**
   * Background maintenance (compaction, ANN and scalar index builds). Off by default so tests are
   * deterministic; pass thresholds to force an index build on small data, e.g.
   * `{ annMinRows: 256, intervalSeconds: 1 }`. `runMaintenance()` runs a pass on demand either way.
   */
  maintenance?: boolean | Partial<MaintenanceConfig>;
  /** Keep the catalog on disk under dataDir (default: only when you passed dataDir). */
  persist?: boolean;
  /** Where the vectors live (default: LanceDB folders under dataDir), e.g. `s3+ddb://` with storage options. */
  storage?: LanceStoreOptions;
  /** S3V_* settings (limits, cursor TTL, …) by their environment variable names, over process.env. */
  env?: Record<string, string>;
}

export interface S3VectorsServer {
  /** e.g. `http://127.0.0.1:53211` — pass as `endpoint` / `endpoint_url`. */
  endpoint: string;
  region: string;
  /** Where the data lives (a temp folder unless you passed one). */
  dataDir: string;
  /** The root user's keys (dummy values when auth is off: the SDKs still sign). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** A client for this server; retries off so a failure shows at once. */
  client(config?: Partial<S3VectorsClientConfig>): S3VectorsClient;
  /** The running service's parts (catalog, identities, maintenance timer), for tests that need them. */
  service: LocalService;
  /** Runs one maintenance pass until every index is caught up (folds rows, builds indexes). */
  runMaintenance(): Promise<void>;
  /** Stops the server and removes the temp data folder (not a folder you passed). */
  stop(): Promise<void>;
}

export async function startS3Vectors(options: S3VectorsOptions = {}): Promise<S3VectorsServer> {
  const ownsData = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'open-s3vectors-'));
  // Settings as the server reads them (S3V_* variables), with this call's choices on top.
  const env = { ...process.env, ...options.env };
  const config = serviceConfigFromEnv({
    ...env,
    ...(options.region ? { S3V_REGION: options.region } : {}),
    ...(options.accountId ? { S3V_ACCOUNT_ID: options.accountId } : {}),
  });
  const credentials =
    options.auth === false
      ? { accessKeyId: 'AKIDUNSIGNED000000000', secretAccessKey: 'unsigned' }
      : pick(options.auth ?? generateAccessKey('root', new Date()));
  const maintenanceOn = options.maintenance !== undefined && options.maintenance !== false;
  const maintenanceConfig: MaintenanceConfig = {
    ...maintenanceConfigFromEnv(env),
    ...(typeof options.maintenance === 'object' ? options.maintenance : {}),
  };
  let service: LocalService;
  try {
    service = await startLocalService({
      dataDir,
      config,
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      auth: options.auth === false ? 'off' : { root: credentials, decisionCacheMs: options.auth?.decisionCacheMs },
      inMemoryCatalog: !(options.persist ?? !ownsData),
      storage: options.storage,
      maintenance: maintenanceOn,
      maintenanceConfig,
      env,
    });
  } catch (error) {
    if (ownsData) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const clients: S3VectorsClient[] = [];
  return {
    endpoint: service.url,
    region: config.region,
    dataDir,
    credentials,
    service,
    client: (extra = {}) => {
      const client = new S3VectorsClient({ endpoint: service.url, region: config.region, credentials, maxAttempts: 1, ...extra });
      clients.push(client);
      return client;
    },
    runMaintenance: async () => {
      await service.runMaintenance();
    },
    stop: async () => {
      for (const client of clients.splice(0)) client.destroy();
      await service.close();
      if (ownsData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function pick(key: { accessKeyId: string; secretAccessKey: string }): { accessKeyId: string; secretAccessKey: string } {
  return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
}

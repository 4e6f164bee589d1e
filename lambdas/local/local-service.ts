// Local mode in one call: embedded DynamoDB (dynalite) and LanceDB under one data directory, and the
// HTTP server in front of the same handlers the Lambdas run.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoIdentityStore } from '../adapters/dynamo-identities';
import { credentialLookup, type IdentityStore, type RootCredentials } from '../core/auth/identities';
import type { ServiceConfig } from '../core/config';
import type { Deps } from '../core/deps';
import { authenticateStep, authorizeStep, cachedDecider, policyDocumentDeciderFor, sigv4Authenticator } from '../runtime/auth-steps';
import type { LanceStoreOptions } from '../adapters/lance/lance-store';
import { searchSettingsFromEnv } from '../adapters/lance/search-plan';
import { bodyWorkerSettingsFromEnv } from './body-pool';
import { httpSettingsFromEnv } from './listen';
import type { MaintenanceConfig } from '../maintenance/config';
import { runMaintenanceOnce, startMaintenanceLoop, type MaintenanceLoop } from '../maintenance/maintenance';
import { createDeps } from '../runtime/deps';
import type { PipelineSteps } from '../runtime/pipeline';
import { removeCatalogEndpoint, writeCatalogEndpoint } from './catalog-endpoint';
import { catalogClient, catalogSocketPath, startDynalite } from './dynalite';
import { privateDataDir } from './private-files';
import { loadSecretSealer } from './secret-key';
import { startLocalServer, type ExtraRoute } from './server';

export interface LocalServiceOptions {
  dataDir: string;
  config: ServiceConfig;
  host?: string;
  port?: number;
  /** Keep the catalog in memory (tests); by default it persists under dataDir/catalog. */
  inMemoryCatalog?: boolean;
  /** Where the vectors live; by default LanceDB folders under dataDir/vectors. */
  storage?: LanceStoreOptions;
  /** SigV4 with these root keys plus the users in the catalog; `off` lets anyone in. */
  auth: { root: RootCredentials; decisionCacheMs?: number } | 'off';
  /** Background optimize (compaction, index builds) on a timer; on unless false or S3V_MAINT=off. */
  maintenance?: boolean;
  /** Maintenance thresholds; by default from the S3V_MAINT_* environment variables. */
  maintenanceConfig?: MaintenanceConfig;
  /** S3V_* settings read by the server (search, HTTP, body workers, hot index); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Routes served next to the API (the console), given what the API handlers run with. */
  extraRoutes?: (context: { deps: Deps; steps: PipelineSteps }) => ExtraRoute | undefined;
}

export interface LocalService {
  url: string;
  deps: Deps;
  identities: IdentityStore;
  /** The maintenance timer, when on: `runNow({ catchUp: true })` waits until every index is caught up. */
  maintenance?: MaintenanceLoop;
  /** One maintenance pass until every index is caught up, with or without the timer. */
  runMaintenance(): Promise<void>;
  /**
   * Stops: no new connections, requests in flight answered (cut after `graceMs`; at once without
   * it), maintenance stopped between actions (with `graceMs`, not waited for past it: a killed
   * action leaves its index as it was), then the stores and the catalog closed (dynalite flushes LevelDB).
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** The SigV4 + IAM steps for the local and the shared service alike. */
export function authSteps(config: ServiceConfig, identities: IdentityStore, auth: LocalServiceOptions['auth']): PipelineSteps {
  if (auth === 'off') return {};
  return {
    authenticate: authenticateStep(sigv4Authenticator(credentialLookup(identities, config.accountId, auth.root), config.region)),
    authorize: authorizeStep(cachedDecider(policyDocumentDeciderFor(config.region), auth.decisionCacheMs ?? 5_000), false),
  };
}

export const CATALOG_TABLE = 's3vectors-catalog';

export async function startLocalService(options: LocalServiceOptions): Promise<LocalService> {
  const dataDir = resolve(options.dataDir);
  const env = options.env ?? process.env;
  // Secrets live here (root credentials, the sealing key, the catalog): the owner only.
  privateDataDir(dataDir);
  mkdirSync(join(dataDir, 'vectors'), { recursive: true, mode: 0o700 });
  if (!options.inMemoryCatalog) mkdirSync(join(dataDir, 'catalog'), { recursive: true, mode: 0o700 });
  // dynalite checks no signatures: it answers on a Unix socket in a 0700 folder, not on a port.
  const dynamo = await startDynalite(options.inMemoryCatalog ? undefined : join(dataDir, 'catalog'), {
    socketPath: catalogSocketPath(dataDir),
  });
  // dynalite's files admit one process; `npm run iam` and `npm run status` use this endpoint meanwhile.
  if (!options.inMemoryCatalog) writeCatalogEndpoint(dataDir, dynamo.address);
  const client: DynamoDBClient = catalogClient(dynamo.address, options.config.region);
  let deps: ReturnType<typeof createDeps>;
  let identities: DynamoIdentityStore;
  let server: Awaited<ReturnType<typeof startLocalServer>>;
  try {
    deps = createDeps({
      config: options.config,
      table: CATALOG_TABLE,
      dynamo: client,
      storage: { search: searchSettingsFromEnv(env), ...(options.storage ?? { uri: join(dataDir, 'vectors') }) },
      soleCatalogWriter: true,
      env,
    });
    await deps.catalogTable.ensureTable();
    identities = new DynamoIdentityStore(client, CATALOG_TABLE, undefined, loadSecretSealer(dataDir));
    const steps = authSteps(options.config, identities, options.auth);
    server = await startLocalServer({
      deps,
      host: options.host,
      port: options.port,
      steps,
      http: httpSettingsFromEnv(env),
      bodyWorkers: bodyWorkerSettingsFromEnv(env),
      extraRoutes: options.extraRoutes?.({ deps, steps }),
    });
  } catch (error) {
    // Nothing half-started stays behind (the catalog socket, LevelDB's lock) when the port is taken.
    client.destroy();
    if (!options.inMemoryCatalog) removeCatalogEndpoint(dataDir, dynamo.address);
    await dynamo.close();
    throw error;
  }
  const maintenance = options.maintenance === false || process.env.S3V_MAINT === 'off' ? undefined : startMaintenanceLoop(deps, { config: options.maintenanceConfig });
  return serviceHandle({
    url: server.url,
    deps,
    identities,
    maintenance,
    maintenanceConfig: options.maintenanceConfig,
    closeServer: (graceMs) => server.close(graceMs),
    release: async () => {
      client.destroy();
      if (!options.inMemoryCatalog) removeCatalogEndpoint(dataDir, dynamo.address);
      await dynamo.close();
    },
  });
}

/**
 * What the local and the shared service return alike: maintenance on demand, and a close that
 * stops the server and maintenance (bounded by the grace period), closes the store, then `release`s
 * what the service opened itself (its catalog).
 */
export function serviceHandle(parts: {
  url: string;
  deps: Deps;
  identities: IdentityStore;
  maintenance?: MaintenanceLoop;
  maintenanceConfig?: MaintenanceConfig;
  closeServer(graceMs?: number): Promise<void>;
  release(): Promise<void>;
}): LocalService {
  const { deps, maintenance, maintenanceConfig } = parts;
  return {
    url: parts.url,
    deps,
    identities: parts.identities,
    maintenance,
    runMaintenance: async () => {
      if (maintenance) await maintenance.runNow({ catchUp: true });
      else await runMaintenanceOnce(deps, { config: maintenanceConfig, catchUp: true });
    },
    close: async ({ graceMs } = {}) => {
      const deadline = Date.now() + (graceMs ?? 0);
      const maintenanceStopped = maintenance?.stop();
      await parts.closeServer(graceMs);
      // Without a grace period (tests), wait for the action in flight however long it takes.
      if (maintenanceStopped && graceMs === undefined) await maintenanceStopped;
      else if (maintenanceStopped) {
        await Promise.race([maintenanceStopped, new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())).unref())]);
      }
      await deps.store.close();
      await parts.release();
    },
  };
}

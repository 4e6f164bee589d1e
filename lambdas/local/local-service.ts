// Local mode in one call: embedded DynamoDB (dynalite) and LanceDB under one data directory, and the
// HTTP server in front of the same handlers the Lambdas run.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoIdentityStore } from '../adapters/dynamo-identities';
import { credentialLookup, type IdentityStore, type RootCredentials } from '../core/auth/identities';
import type { ServiceConfig } from '../core/config';
import type { Deps } from '../core/deps';
import { authenticateStep, authorizeStep, cachedDecider, policyDocumentDecider, sigv4Authenticator } from '../runtime/auth-steps';
import type { LanceStoreOptions } from '../adapters/lance/lance-store';
import type { MaintenanceConfig } from '../maintenance/config';
import { runMaintenanceOnce, startMaintenanceLoop, type MaintenanceLoop } from '../maintenance/maintenance';
import { createDeps } from '../runtime/deps';
import type { PipelineSteps } from '../runtime/pipeline';
import { removeCatalogEndpoint, writeCatalogEndpoint } from './catalog-endpoint';
import { startDynalite } from './dynalite';
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
  close(): Promise<void>;
}

function authSteps(config: ServiceConfig, identities: IdentityStore, auth: LocalServiceOptions['auth']): PipelineSteps {
  if (auth === 'off') return {};
  return {
    authenticate: authenticateStep(sigv4Authenticator(credentialLookup(identities, config.accountId, auth.root), config.region)),
    authorize: authorizeStep(cachedDecider(policyDocumentDecider, auth.decisionCacheMs ?? 5_000), false),
  };
}

export const CATALOG_TABLE = 's3vectors-catalog';

export async function startLocalService(options: LocalServiceOptions): Promise<LocalService> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(join(dataDir, 'vectors'), { recursive: true });
  if (!options.inMemoryCatalog) mkdirSync(join(dataDir, 'catalog'), { recursive: true });
  const dynamo = await startDynalite(options.inMemoryCatalog ? undefined : join(dataDir, 'catalog'));
  // dynalite's files admit one process; `npm run iam` and `npm run status` use this endpoint meanwhile.
  if (!options.inMemoryCatalog) writeCatalogEndpoint(dataDir, dynamo.endpoint);
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: options.config.region,
    // dynalite checks no signatures; the client still wants something to sign with.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const deps = createDeps({
    config: options.config,
    table: CATALOG_TABLE,
    dynamo: client,
    storage: options.storage ?? { uri: join(dataDir, 'vectors') },
    soleCatalogWriter: true,
  });
  await deps.catalogTable.ensureTable();
  const identities = new DynamoIdentityStore(client, CATALOG_TABLE);
  const steps = authSteps(options.config, identities, options.auth);
  const server = await startLocalServer({ deps, host: options.host, port: options.port, steps, extraRoutes: options.extraRoutes?.({ deps, steps }) });
  const maintenance = options.maintenance === false || process.env.S3V_MAINT === 'off' ? undefined : startMaintenanceLoop(deps, { config: options.maintenanceConfig });
  return {
    url: server.url,
    deps,
    identities,
    maintenance,
    runMaintenance: async () => {
      if (maintenance) await maintenance.runNow({ catchUp: true });
      else await runMaintenanceOnce(deps, { config: options.maintenanceConfig, catchUp: true });
    },
    close: async () => {
      await server.close();
      await maintenance?.stop();
      await deps.store.close();
      client.destroy();
      if (!options.inMemoryCatalog) removeCatalogEndpoint(dataDir, dynamo.endpoint);
      await dynamo.close();
    },
  };
}

// The server on an external backend: the catalog on a DynamoDB-compatible service shared by every
// process, the vectors on s3+ddb://. Same handlers and pipeline as local mode; what differs is what
// a process may keep: nothing of the catalog (no single-writer cache: another process may change
// any record; one consistent read per request serves its lookups), Lance reads checked against the
// latest commit every time, maintenance under a lease.
import type { DynamoIdentityStore } from '../adapters/dynamo-identities';
import { authSteps, serviceHandle, type LocalService, type LocalServiceOptions } from '../local/local-service';
import { startLocalServer } from '../local/server';
import { createDeps } from '../runtime/deps';
import { checkBackend, externalCatalogClient } from './backend';
import { sharedIdentityStore } from './identities';
import { requestSnapshotStep } from './request-catalog';
import type { BackendConfig } from './config';
import { startSharedMaintenanceLoop } from './shared-maintenance';

export type SharedServiceOptions = Omit<LocalServiceOptions, 'inMemoryCatalog' | 'storage'> & {
  backend: BackendConfig & Required<Pick<BackendConfig, 'catalog' | 'storage'>>;
  /** Lease length for maintenance (tests shorten it). */
  maintenanceLeaseMs?: number;
};

/** Starts one process of a shared service; refuses (BackendError) a backend that is not set up. */
export async function startSharedService(options: SharedServiceOptions): Promise<LocalService> {
  const { backend } = options;
  const { secretKey } = await checkBackend(backend);
  const client = externalCatalogClient(backend.catalog);
  const deps = createDeps({
    config: options.config,
    table: backend.catalog.table,
    dynamo: client,
    storage: backend.storage,
    // Other processes write the catalog too: every request reads it.
    soleCatalogWriter: false,
  });
  const identities: DynamoIdentityStore = sharedIdentityStore(client, backend.catalog.table, secretKey!);
  const auth = authSteps(options.config, identities, options.auth);
  // One consistent catalog read per request instead of one per lookup (./request-catalog).
  const steps = { ...auth, authorize: requestSnapshotStep(deps.catalogTable, auth.authorize) };
  let server;
  try {
    server = await startLocalServer({ deps, host: options.host, port: options.port, steps, extraRoutes: options.extraRoutes?.({ deps, steps }) });
  } catch (error) {
    client.destroy();
    await deps.store.close();
    throw error;
  }
  const maintenanceOn = !(options.maintenance === false || process.env.S3V_MAINT === 'off');
  const maintenance = maintenanceOn
    ? startSharedMaintenanceLoop(deps, { client, table: backend.catalog.table, config: options.maintenanceConfig, leaseMs: options.maintenanceLeaseMs })
    : undefined;
  return serviceHandle({
    url: server.url,
    deps,
    identities,
    maintenance,
    maintenanceConfig: options.maintenanceConfig,
    closeServer: (graceMs) => server.close(graceMs),
    release: async () => client.destroy(),
  });
}

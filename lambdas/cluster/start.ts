// The one switch between the two storage modes: an external backend when the S3V_* variables name
// one (checked first: the server refuses a backend that is not set up), else local disk and the
// embedded catalog.
import { startLocalService, type LocalService, type LocalServiceOptions } from '../local/local-service';
import { checkBackend } from './backend';
import { backendFromEnv, BackendError } from './config';
import { startSharedService } from './cluster-service';

export async function startConfiguredService(options: LocalServiceOptions, env: NodeJS.ProcessEnv = process.env): Promise<LocalService> {
  const backend = backendFromEnv(env, options.config.region);
  if (!backend) return startLocalService(options);
  if (backend.catalog && backend.storage) {
    // Generated root keys would differ per process: every process must be given the same ones.
    if (options.auth !== 'off' && !env.S3V_ROOT_ACCESS_KEY_ID) {
      throw new BackendError('error: several processes share this catalog: give each the same S3V_ROOT_ACCESS_KEY_ID and S3V_ROOT_SECRET_ACCESS_KEY');
    }
    return startSharedService({ ...options, backend: { ...backend, catalog: backend.catalog, storage: backend.storage } });
  }
  // Vectors on S3, catalog embedded: one process, the data directory keeps the catalog.
  await checkBackend(backend);
  return startLocalService({ ...options, storage: backend.storage ?? options.storage });
}

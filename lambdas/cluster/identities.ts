// IAM users on the shared catalog: every process, and `npm run iam`, read and write the same
// records, with secrets sealed by the one key in S3V_SECRET_KEY_FILE (the same file everywhere, so
// a key created through any process verifies on every other).
import { DynamoIdentityStore } from '../adapters/dynamo-identities';
import { aesGcmSealer } from '../adapters/secret-sealer';
import { serviceConfigFromEnv } from '../core/config';
import type { OpenCatalog } from '../local/open-catalog';
import { checkBackend, externalCatalogClient } from './backend';
import { backendFromEnv } from './config';

/** The identity store of the shared catalog, its secrets sealed with the shared key. */
export function sharedIdentityStore(client: ConstructorParameters<typeof DynamoIdentityStore>[0], table: string, secretKey: Buffer): DynamoIdentityStore {
  return new DynamoIdentityStore(client, table, undefined, aesGcmSealer(secretKey));
}

/** `npm run iam` on the external catalog the S3V_* variables name; undefined when there is none. */
export async function openExternalCatalog(env: NodeJS.ProcessEnv = process.env): Promise<(OpenCatalog & { secretKey: Buffer }) | undefined> {
  // The CLI says "error:" itself.
  const oneLine = (e: Error) => new Error(e.message.replace(/^error: /, ''));
  let backend;
  try {
    backend = backendFromEnv(env, serviceConfigFromEnv(env).region);
  } catch (e) {
    throw oneLine(e as Error);
  }
  if (!backend?.catalog) return undefined;
  const { secretKey } = await checkBackend({ catalog: backend.catalog, secretKeyFile: backend.secretKeyFile }).catch((e: Error) => {
    throw oneLine(e);
  });
  const client = externalCatalogClient(backend.catalog, 2);
  return { client, table: backend.catalog.table, via: 'server', secretKey: secretKey!, close: async () => client.destroy() };
}

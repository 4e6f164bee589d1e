// Commands beside the server (`npm run iam`, `npm run status`) reach a data directory's catalog
// through the running server's published endpoint (a Unix socket only its user can open), or, with
// no server running, by opening the files themselves (dynalite's LevelDB admits one process at a time).
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoCatalog } from '../adapters/dynamo-catalog';
import { readLiveCatalogEndpoint } from './catalog-endpoint';
import { catalogClient, catalogSocketPath, startDynalite, type EmbeddedDynamo } from './dynalite';
import { CATALOG_TABLE } from './local-service';
import { openExternalCatalog } from '../cluster/identities';
import { assertOwnDataDir } from './private-files';

export interface OpenCatalog {
  client: DynamoDBClient;
  table: string;
  /** `server`: through the running server; `files`: opened here. */
  via: 'server' | 'files';
  close(): Promise<void>;
  /** A shared (external) catalog's sealing key, from S3V_SECRET_KEY_FILE; else the data directory's. */
  secretKey?: Buffer;
}

/** Throws a message saying why `dataDir` cannot be used: missing, or closed to this user (it is 0700). */
export function checkDataDirUsable(dataDir: string): void {
  try {
    accessSync(dataDir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`data directory ${dataDir} does not exist (start the server once, or pass --data-dir)`);
    throw new Error(`data directory ${dataDir} is not open to this user (${code}): run this as the user that runs the server`);
  }
}

export async function openDataDirCatalog(dataDir: string): Promise<OpenCatalog> {
  const external = await openExternalCatalog(); // the shared catalog S3V_DYNAMODB_ENDPOINT / S3V_CATALOG_TABLE name
  if (external) return external;
  checkDataDirUsable(dataDir);
  // A folder another user owns may hold their secret.key: sealing new secrets with it would hand them over.
  assertOwnDataDir(dataDir);
  const live = await readLiveCatalogEndpoint(dataDir);
  let embedded: EmbeddedDynamo | undefined;
  if (!live) {
    // dynalite reports a catalog held open by another process (LevelDB's lock) by throwing from a
    // callback, outside any promise we hold: turn that into a message instead of a stack trace.
    process.once('uncaughtException', (error) => {
      console.error(
        `error: cannot open the catalog in ${dataDir} (${error.message}). It is probably in use by a running server ` +
          `that does not publish its endpoint in ${dataDir}/catalog-endpoint (stop it first)`,
      );
      process.exit(1);
    });
    mkdirSync(join(dataDir, 'catalog'), { recursive: true, mode: 0o700 });
    // Opened here, the catalog is as private as when the server holds it: a socket, no port.
    embedded = await startDynalite(join(dataDir, 'catalog'), { socketPath: catalogSocketPath(dataDir) });
  }
  const client = catalogClient(live ?? embedded!.address, 'us-east-1', 2);
  const close = async () => {
    client.destroy();
    await embedded?.close();
  };
  try {
    await new DynamoCatalog(client, CATALOG_TABLE).ensureTable();
  } catch (e) {
    await close();
    const lock = /lock/i.test(String((e as Error)?.message ?? e));
    throw lock ? new Error(`the catalog in ${dataDir} is locked by another process (a server without a published endpoint?)`) : e;
  }
  return { client, table: CATALOG_TABLE, via: live ? 'server' : 'files', close };
}

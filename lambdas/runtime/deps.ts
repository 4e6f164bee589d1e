// Wiring the ports to their adapters. In Lambda everything comes from environment variables set by
// the stack; the local server passes its own settings.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CachedCatalog } from '../adapters/cached-catalog';
import { DynamoCatalog } from '../adapters/dynamo-catalog';
import { hotSettingsFromEnv } from '../adapters/hot/hot-config';
import { LanceVectorStore, type LanceStoreOptions } from '../adapters/lance/lance-store';
import { serviceConfigFromEnv, type ServiceConfig } from '../core/config';
import type { Deps } from '../core/deps';
import { Cursors } from '../core/pagination/cursors';

export interface RuntimeSettings {
  config: ServiceConfig;
  table: string;
  /** A DynamoDB client for the catalog (pointing at dynalite locally). */
  dynamo: DynamoDBClient;
  storage: LanceStoreOptions;
  /** Cache bucket and index records in process: only where this process is the catalog's one writer. */
  soleCatalogWriter?: boolean;
  /** Where S3V_HOT_* are read (the sole writer's hot indexes); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export function createDeps(settings: RuntimeSettings): Deps & { catalogTable: DynamoCatalog } {
  const catalogTable = new DynamoCatalog(settings.dynamo, settings.table);
  const catalog = settings.soleCatalogWriter ? new CachedCatalog(catalogTable) : catalogTable;
  const now = () => Date.now() / 1000;
  return {
    config: settings.config,
    catalog,
    catalogTable,
    // The hot in-memory index needs every commit of a table to happen in this process: the local
    // server's own folder only (the store checks the storage too), never Lambda or a shared service.
    store: new LanceVectorStore(settings.storage, settings.soleCatalogWriter ? hotSettingsFromEnv(settings.env) : undefined),
    cursors: new Cursors(catalog, settings.config.cursorTtlSeconds, now),
    now,
  };
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}

/** Settings for a Lambda function, from the environment the stack sets. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): RuntimeSettings {
  const config = serviceConfigFromEnv(env);
  return {
    config,
    table: required(env, 'S3V_TABLE'),
    dynamo: new DynamoDBClient({ region: config.region, ...(env.S3V_DYNAMODB_ENDPOINT ? { endpoint: env.S3V_DYNAMODB_ENDPOINT } : {}) }),
    storage: {
      uri: required(env, 'S3V_STORAGE_URI'),
      storageOptions: env.S3V_STORAGE_OPTIONS ? (JSON.parse(env.S3V_STORAGE_OPTIONS) as Record<string, string>) : undefined,
      // Several Lambda processes write one table: always look for their commits before reading.
      readConsistencySeconds: 0,
    },
  };
}

let envDeps: Promise<Deps> | undefined;

/** One set of deps per Lambda process, built on the first request. */
export function depsFromEnv(): Promise<Deps> {
  envDeps ??= Promise.resolve().then(() => createDeps(settingsFromEnv()));
  return envDeps;
}

// The running server's embedded DynamoDB endpoint, published under the data directory. dynalite
// persists with LevelDB, which only one process may hold open, so tools such as `npm run iam` talk
// to the server's catalog through this endpoint while the server runs, and open the files directly
// only when it does not.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

export const CATALOG_ENDPOINT_FILE = 'catalog-endpoint';

const fileOf = (dataDir: string) => join(dataDir, CATALOG_ENDPOINT_FILE);

/** Publishes `url` (http://127.0.0.1:<port>) as the live catalog endpoint; readable by the owner only. */
export function writeCatalogEndpoint(dataDir: string, url: string): void {
  writeFileSync(fileOf(dataDir), `${url}\n`, { mode: 0o600 });
}

/** Withdraws the endpoint; with `url`, only when the file still names it (another server may have taken over). */
export function removeCatalogEndpoint(dataDir: string, url?: string): void {
  const file = fileOf(dataDir);
  if (!existsSync(file)) return;
  if (url !== undefined && readFileSync(file, 'utf8').trim() !== url) return;
  rmSync(file, { force: true });
}

/**
 * The published endpoint if a DynamoDB-protocol server answers there within `timeoutMs`;
 * undefined when no file is published or it is stale (the server died without removing it).
 */
export async function readLiveCatalogEndpoint(dataDir: string, timeoutMs = 1500): Promise<string | undefined> {
  const file = fileOf(dataDir);
  if (!existsSync(file)) return undefined;
  const url = readFileSync(file, 'utf8').trim();
  // Only a loopback http URL: the file is a hint from a local process, not a place to send data to.
  if (!/^http:\/\/(127\.\d+\.\d+\.\d+|\[::1\]|localhost):\d+$/.test(url)) return undefined;
  const client = new DynamoDBClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  try {
    const out = await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(timeoutMs) });
    return Array.isArray(out.TableNames) ? url : undefined;
  } catch {
    return undefined;
  } finally {
    client.destroy();
  }
}

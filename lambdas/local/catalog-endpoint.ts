// The running server's embedded DynamoDB endpoint, published under the data directory. dynalite
// persists with LevelDB, which only one process may hold open, so tools such as `npm run iam` talk
// to the server's catalog through this endpoint while the server runs, and open the files directly
// only when it does not. The endpoint is a Unix socket in a 0700 folder (`unix:<path>`): only the
// server's user can reach the catalog.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { catalogClient, type CatalogAddress } from './dynalite';

export const CATALOG_ENDPOINT_FILE = 'catalog-endpoint';

const fileOf = (dataDir: string) => join(dataDir, CATALOG_ENDPOINT_FILE);

const format = (address: CatalogAddress) => ('socketPath' in address ? `unix:${address.socketPath}` : address.url);

/** Publishes the live catalog address; readable by the owner only. */
export function writeCatalogEndpoint(dataDir: string, address: CatalogAddress): void {
  writeFileSync(fileOf(dataDir), `${format(address)}\n`, { mode: 0o600 });
}

/** Withdraws the endpoint; with `address`, only when the file still names it (another server may have taken over). */
export function removeCatalogEndpoint(dataDir: string, address?: CatalogAddress): void {
  const file = fileOf(dataDir);
  if (!existsSync(file)) return;
  if (address !== undefined && readFileSync(file, 'utf8').trim() !== format(address)) return;
  rmSync(file, { force: true });
}

function parse(text: string): CatalogAddress | undefined {
  if (text.startsWith('unix:') && text.length > 5) return { socketPath: text.slice(5) };
  // Only a loopback http URL: the file is a hint from a local process, not a place to send data to.
  if (/^http:\/\/(127\.\d+\.\d+\.\d+|\[::1\]|localhost):\d+$/.test(text)) return { url: text };
  return undefined;
}

/**
 * The published address if a DynamoDB-protocol server answers there within `timeoutMs`;
 * undefined when no file is published or it is stale (the server died without removing it).
 */
export async function readLiveCatalogEndpoint(dataDir: string, timeoutMs = 1500): Promise<CatalogAddress | undefined> {
  const file = fileOf(dataDir);
  if (!existsSync(file)) return undefined;
  const address = parse(readFileSync(file, 'utf8').trim());
  if (!address) return undefined;
  const client = catalogClient(address, 'us-east-1', 1);
  try {
    const out = await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(timeoutMs) });
    return Array.isArray(out.TableNames) ? address : undefined;
  } catch {
    return undefined;
  } finally {
    client.destroy();
  }
}

// The embedded DynamoDB-protocol server of local mode, so the catalog code is the same as in AWS.
import type { Server } from 'node:http';
import { listen } from './listen';

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: { path?: string; createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

export interface EmbeddedDynamo {
  endpoint: string;
  close(): Promise<void>;
}

/** Starts dynalite on a free loopback port; persists under `path` when given, else in memory. */
export async function startDynalite(path?: string): Promise<EmbeddedDynamo> {
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const { port } = await listen(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// The embedded DynamoDB-protocol server of local mode, so the catalog code is the same as in AWS.
// dynalite checks no signatures, so the server's own catalog listens on a Unix socket in a 0700
// folder: only the server's user can connect (a loopback port is open to every local process).
// A TCP port stays available for what cannot speak over a socket (Lance's native commit store in tests).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, type Server } from 'node:http';
import { connect, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { listen } from './listen';
// Before dynalite is required: its Query/Scan streams close their LevelDB iterators through return().
import './mem-dynalite-iterators';

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: { path?: string; createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

/** Where a catalog server answers: a Unix socket (the local server's own) or a loopback URL. */
export type CatalogAddress = { socketPath: string } | { url: string };

export interface EmbeddedDynamo {
  address: CatalogAddress;
  /** The http URL for TCP mode; for a socket, a placeholder host the socket agent ignores. */
  endpoint: string;
  close(): Promise<void>;
}

export interface DynaliteOptions {
  /** Listen on this Unix socket instead of a loopback port (its folder is created 0700). */
  socketPath?: string;
}

// sun_path holds 108 bytes on Linux, 104 on macOS: longer data-dir paths get a private temp folder.
const MAX_SOCKET_PATH = 100;

/**
 * A socket path for a data directory's catalog: <dataDir>/run/catalog.sock, or, when that is too long
 * for a socket address, catalog.sock in a new 0700 temp folder (published through catalog-endpoint).
 */
export function catalogSocketPath(dataDir: string): string {
  if (process.platform === 'win32') return `\\\\?\\pipe\\open-s3vectors-${randomBytes(16).toString('hex')}`;
  const inDataDir = join(dataDir, 'run', 'catalog.sock');
  if (Buffer.byteLength(inDataDir) <= MAX_SOCKET_PATH) return inDataDir;
  return join(mkdtempSync(join(tmpdir(), 's3v-catalog-')), 'catalog.sock');
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts dynalite; persists under `path` when given, else in memory. */
export async function startDynalite(path?: string, options: DynaliteOptions = {}): Promise<EmbeddedDynamo> {
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  const { socketPath } = options;
  if (!socketPath) {
    const { port } = await listen(server);
    const url = `http://127.0.0.1:${port}`;
    return { address: { url }, endpoint: url, close };
  }
  if (process.platform !== 'win32') {
    const dir = dirname(socketPath);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    if (existsSync(socketPath)) {
      if (await socketAnswers(socketPath)) throw new Error(`another server is using this data directory (its catalog answers on ${socketPath})`);
      rmSync(socketPath, { force: true }); // left by a server that was killed
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  if (process.platform !== 'win32') chmodSync(socketPath, 0o600);
  return {
    address: { socketPath },
    endpoint: 'http://localhost',
    close: async () => {
      await close();
      rmSync(socketPath, { force: true });
      if (basename(dirname(socketPath)).startsWith('s3v-catalog-')) rmSync(dirname(socketPath), { recursive: true, force: true });
    },
  };
}

/** An http.Agent whose connections all go to one Unix socket, whatever host the request names. */
export function socketAgent(socketPath: string): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  (agent as unknown as { createConnection: () => unknown }).createConnection = () => createConnection({ path: socketPath });
  return agent;
}

/** A DynamoDB client for a catalog address. dynalite checks no signatures; the client still wants keys to sign with. */
export function catalogClient(address: CatalogAddress, region = 'us-east-1', maxAttempts?: number): DynamoDBClient {
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  if ('url' in address) return new DynamoDBClient({ endpoint: address.url, region, credentials, maxAttempts });
  return new DynamoDBClient({
    endpoint: 'http://localhost',
    region,
    credentials,
    maxAttempts,
    requestHandler: { httpAgent: socketAgent(address.socketPath) },
  });
}

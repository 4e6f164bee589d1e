// The LanceDB Session (its index and file-metadata caches) every connection of this process opens with.
// Entries of a dropped table stay cached until evicted by size, and Lance's default sizes (6 GiB of
// index, 1 GiB of metadata) let index churn grow a process by ~30 KB of manifests and file metadata
// per dropped table (issue 10 item 9; bench/mem-churn.ts). The metadata cache is bounded here.
// Pass the session as `options.session`: lancedb.connect(uri, options, session) ignores a third argument.
import { connect, Session, type Connection, type ConnectionOptions } from '@lancedb/lancedb';

export const DEFAULT_METADATA_CACHE_MB = 64;

export interface LanceCacheSettings {
  /** Index cache bound; undefined keeps Lance's default (6 GiB), which the ANN indexes of large tables need. */
  indexCacheMb?: number;
  metadataCacheMb: number;
}

function megabytes(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of MiB, not '${raw}'`);
  return value;
}

/** S3V_LANCE_INDEX_CACHE_MB and S3V_LANCE_METADATA_CACHE_MB; throws on a value that is not a positive number. */
export function lanceCacheSettings(env: NodeJS.ProcessEnv = process.env): LanceCacheSettings {
  return {
    indexCacheMb: megabytes(env, 'S3V_LANCE_INDEX_CACHE_MB'),
    metadataCacheMb: megabytes(env, 'S3V_LANCE_METADATA_CACHE_MB') ?? DEFAULT_METADATA_CACHE_MB,
  };
}

const sessions = new Set<WeakRef<Session>>();
/** Each connection keeps its session's JS handle alive (for lanceCacheBytes) as long as it lives itself. */
const sessionOf = new WeakMap<Connection, Session>();
const bytes = (mb: number | undefined) => (mb === undefined ? undefined : BigInt(Math.round(mb * 1048576)));

/** A new Session with the configured bounds (a bad setting falls back to the defaults; bin/server.ts refuses it at start). */
export function lanceSession(env: NodeJS.ProcessEnv = process.env): Session {
  let settings: LanceCacheSettings;
  try {
    settings = lanceCacheSettings(env);
  } catch {
    settings = { metadataCacheMb: DEFAULT_METADATA_CACHE_MB };
  }
  const session = new Session(bytes(settings.indexCacheMb), bytes(settings.metadataCacheMb));
  sessions.add(new WeakRef(session));
  return session;
}

/** lancedb.connect with a new bounded session. */
export async function connectLance(uri: string, options: Partial<ConnectionOptions> = {}): Promise<Connection> {
  const session = lanceSession();
  const connection = await connect(uri, { ...options, session });
  sessionOf.set(connection, session);
  return connection;
}

/** What the caches of this process's live sessions hold, in bytes (the S3V_MEM_LOG_MS line, tests). */
export function lanceCacheBytes(): number {
  let total = 0;
  for (const ref of sessions) {
    const session = ref.deref();
    if (session) total += Number(session.sizeBytes());
    else sessions.delete(ref);
  }
  return total;
}

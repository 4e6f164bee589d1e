// The data directory holds secrets (root credentials, the key sealing IAM secrets, the catalog):
// it is made 0700 so no other local user can read anything under it, whatever modes LanceDB and
// LevelDB give their own files; the server process also runs with umask 077 (bin/server.ts), and
// files an older version left readable (top level, catalog logs) are taken to owner-only at start.
// A folder another user owns is refused: its owner can chmod it back, and plant or swap what is
// in it (a root-credentials.json or secret.key they know) whatever modes we give its files.
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The data directory, or something at its top level, belongs to another user. */
export class DataDirNotOwned extends Error {}

/**
 * Throws DataDirNotOwned when `dataDir` (followed if a link) or any entry at its top level is
 * owned by a user other than this process's. Nothing is read or created before this check passes.
 */
export function assertOwnDataDir(dataDir: string): void {
  if (typeof process.getuid !== 'function') return; // Windows: ACLs, no uid
  const uid = process.getuid();
  const dir = statSync(dataDir, { throwIfNoEntry: false });
  if (!dir) return;
  const refuse = (what: string, owner: number) =>
    new DataDirNotOwned(
      `${what} belongs to another user (uid ${owner}, not ${uid}): its owner could read or replace the credentials kept there; use a folder you own`,
    );
  if (dir.uid !== uid) throw refuse(`the data directory ${dataDir}`, dir.uid);
  if (!dir.isDirectory()) return;
  for (const name of readdirSync(dataDir)) {
    const st = lstatSync(join(dataDir, name), { throwIfNoEntry: false });
    if (st && st.uid !== uid) throw refuse(`${join(dataDir, name)} in the data directory`, st.uid);
  }
}

/** Creates `dataDir` 0700, or takes an existing one to 0700, and strips group/other bits from its secrets. */
export function privateDataDir(dataDir: string): void {
  assertOwnDataDir(dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  stripGroupOther(dataDir, false);
  if (existsSync(join(dataDir, 'catalog'))) stripGroupOther(join(dataDir, 'catalog'), true);
}

function stripGroupOther(dir: string, deep: boolean): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st || st.isSymbolicLink()) continue;
    if (st.mode & 0o077) chmodSync(path, st.mode & 0o700);
    if (deep && st.isDirectory()) stripGroupOther(path, true);
  }
}

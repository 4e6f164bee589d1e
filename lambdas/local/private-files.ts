// The data directory holds secrets (root credentials, the key sealing IAM secrets, the catalog):
// it is made 0700 so no other local user can read anything under it, whatever modes LanceDB and
// LevelDB give their own files; the server process also runs with umask 077 (bin/server.ts), and
// files an older version left readable (top level, catalog logs) are taken to owner-only at start.
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Creates `dataDir` 0700, or takes an existing one to 0700, and strips group/other bits from its secrets. */
export function privateDataDir(dataDir: string): void {
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

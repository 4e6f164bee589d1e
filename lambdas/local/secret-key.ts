// The key that seals IAM secret access keys in the local catalog: <data-dir>/secret.key, 32 random
// bytes (base64), created once with mode 0600. Kept beside the catalog, not in it, so a copy of the
// catalog (or its backups, or its LevelDB logs) does not give away anyone's secret.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { aesGcmSealer } from '../adapters/secret-sealer';
import type { SecretSealer } from '../core/auth/identities';

export const SECRET_KEY_FILE = 'secret.key';

export function loadSecretSealer(dataDir: string): SecretSealer {
  const file = join(dataDir, SECRET_KEY_FILE);
  if (!existsSync(file)) {
    // 'wx': if two processes race to create it, one fails here and reads the other's below.
    try {
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  chmodSync(file, 0o600);
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} is not a 32-byte base64 key; restore it from a backup (without it, IAM users' keys cannot be verified)`);
  return aesGcmSealer(key);
}

// The local root user's access key: from S3V_ROOT_ACCESS_KEY_ID / S3V_ROOT_SECRET_ACCESS_KEY when
// set, otherwise generated once and kept under the data directory, readable by the owner only.
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { generateAccessKey, type RootCredentials } from '../core/auth/identities';

export const ROOT_CREDENTIALS_FILE = 'root-credentials.json';

export function loadRootCredentials(dataDir: string, env: NodeJS.ProcessEnv = process.env): { credentials: RootCredentials; source: 'environment' | 'file' | 'generated' } {
  const accessKeyId = env.S3V_ROOT_ACCESS_KEY_ID;
  const secretAccessKey = env.S3V_ROOT_SECRET_ACCESS_KEY;
  if (accessKeyId || secretAccessKey) {
    if (!accessKeyId || !secretAccessKey) throw new Error('Set both S3V_ROOT_ACCESS_KEY_ID and S3V_ROOT_SECRET_ACCESS_KEY, or neither');
    return { credentials: { accessKeyId, secretAccessKey }, source: 'environment' };
  }
  const file = join(dataDir, ROOT_CREDENTIALS_FILE);
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as RootCredentials;
    return { credentials: { accessKeyId: stored.accessKeyId, secretAccessKey: stored.secretAccessKey }, source: 'file' };
  }
  const key = generateAccessKey('root', new Date());
  const credentials = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
  writeFileSync(file, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return { credentials, source: 'generated' };
}

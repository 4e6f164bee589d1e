// AES-256-GCM for secrets kept in the catalog (IAM secret access keys): a copy of the catalog alone
// reveals nothing; the 32-byte key lives elsewhere (locally: <data-dir>/secret.key, mode 0600).
// The access key id is bound in as associated data, so a sealed secret cannot be moved to another key.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SecretSealer } from '../core/auth/identities';

const PREFIX = 'aes256gcm:v1';

export function aesGcmSealer(key: Buffer): SecretSealer {
  if (key.length !== 32) throw new Error('the secret key must be 32 bytes');
  return {
    seal(plain, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [PREFIX, iv.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join(':');
    },
    open(sealed, context) {
      const parts = sealed.split(':');
      if (parts.length !== 5 || `${parts[0]}:${parts[1]}` !== PREFIX) throw new Error('not a sealed secret');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[2], 'base64'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(parts[3], 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(parts[4], 'base64')), decipher.final()]).toString('utf8');
    },
  };
}

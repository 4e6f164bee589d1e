import { ValidationError } from '../errors';
import type { Encryption } from '../ports';

/** AES256 unless asked otherwise; aws:kms needs a key ARN, and only aws:kms takes one. */
export function encryptionFrom(
  input: { sseType?: string; kmsKeyArn?: string } | undefined,
  fallback: Encryption = { sseType: 'AES256' },
): Encryption {
  if (!input || (input.sseType === undefined && input.kmsKeyArn === undefined)) return fallback;
  const sseType = (input.sseType ?? 'AES256') as Encryption['sseType'];
  if (sseType === 'aws:kms' && !input.kmsKeyArn) {
    throw ValidationError.field('/encryptionConfiguration/kmsKeyArn', 'kmsKeyArn is required when sseType is aws:kms');
  }
  if (sseType === 'AES256' && input.kmsKeyArn) {
    throw ValidationError.field('/encryptionConfiguration/kmsKeyArn', 'kmsKeyArn can only be set when sseType is aws:kms');
  }
  return input.kmsKeyArn ? { sseType, kmsKeyArn: input.kmsKeyArn } : { sseType };
}

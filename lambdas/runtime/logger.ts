// Structured JSON logs (CloudWatch in AWS, stdout locally). Secrets never go through here.
import pino from 'pino';

export const logger = pino({
  level: process.env.S3V_LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info'),
  base: { service: 'open-s3vectors' },
});

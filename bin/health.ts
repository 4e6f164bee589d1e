// `open-s3vectors health`: the container's health check. Calls the API itself (a signed
// ListVectorBuckets with the root key from the environment or the data folder), so "healthy" means
// the server answers requests, not just that the port is open. Exit 0 healthy, 1 not.
import '../lambdas/local/quiet-sdk';
import { ListVectorBucketsCommand, S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT_CREDENTIALS_FILE } from '../lambdas/local/root-credentials';

function credentials(): { accessKeyId: string; secretAccessKey: string } {
  const { S3V_ROOT_ACCESS_KEY_ID: accessKeyId, S3V_ROOT_SECRET_ACCESS_KEY: secretAccessKey } = process.env;
  if (accessKeyId && secretAccessKey) return { accessKeyId, secretAccessKey };
  const file = join(process.env.S3V_DATA_DIR ?? './data', ROOT_CREDENTIALS_FILE);
  // With S3V_AUTH=off any key is accepted; otherwise the server wrote its generated key here.
  if (!existsSync(file)) return { accessKeyId: 'AKIDHEALTHCHECK00000', secretAccessKey: 'unsigned' };
  const stored = JSON.parse(readFileSync(file, 'utf8')) as { accessKeyId: string; secretAccessKey: string };
  return { accessKeyId: stored.accessKeyId, secretAccessKey: stored.secretAccessKey };
}

async function main(): Promise<number> {
  const endpoint = `http://127.0.0.1:${process.env.S3V_PORT ?? '8000'}`;
  const client = new S3VectorsClient({ endpoint, region: process.env.S3V_REGION ?? 'us-east-1', credentials: credentials(), maxAttempts: 1, requestHandler: { requestTimeout: 4000 } });
  try {
    await client.send(new ListVectorBucketsCommand({ maxResults: 1 }));
    return 0;
  } catch (error) {
    console.error(`unhealthy: ${endpoint}: ${(error as Error).name}: ${(error as Error).message}`);
    return 1;
  } finally {
    client.destroy();
  }
}

main().then((code) => process.exit(code));

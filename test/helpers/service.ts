// Starts the real local server (dynalite catalog, LanceDB in a temp dir) and an AWS SDK client for it.
import { S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3Vectors } from '../../lambdas/embed';
import type { LocalService, LocalServiceOptions } from '../../lambdas/local/local-service';
import { startS3Storage, type S3Storage } from './s3-storage';

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';
export const TEST_CREDENTIALS = { accessKeyId: 'AKIDTESTROOT00000000', secretAccessKey: 'test-root-secret-key-0000000000000000000' };

export interface TestService {
  url: string;
  client: S3VectorsClient;
  service: LocalService;
  dataDir: string;
  close(): Promise<void>;
}

export interface TestServiceOptions {
  env?: Record<string, string>;
  dataDir?: string;
  keepData?: boolean;
  persistCatalog?: boolean;
  /** Defaults to SigV4 with TEST_CREDENTIALS as the root user. */
  auth?: LocalServiceOptions['auth'];
  /** `s3`: LanceDB on s3+ddb:// (s3rver + dynalite), as the Lambdas run; default from S3V_TEST_STORAGE, else local. */
  storage?: 'local' | 's3';
  /** The background maintenance timer; off by default so suites stay deterministic. */
  maintenance?: boolean;
}

export function clientFor(url: string, credentials = TEST_CREDENTIALS, region = REGION): S3VectorsClient {
  return new S3VectorsClient({ endpoint: url, region, credentials, maxAttempts: 1 });
}

export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 's3v-test-'));
  const s3: S3Storage | undefined = (options.storage ?? process.env.S3V_TEST_STORAGE) === 's3' ? await startS3Storage() : undefined;
  // The project's own suites run through the public programmatic API, so it cannot rot.
  const auth = options.auth ?? { root: TEST_CREDENTIALS };
  const server = await startS3Vectors({
    dataDir,
    env: { S3V_REGION: REGION, S3V_ACCOUNT_ID: ACCOUNT, ...options.env },
    persist: options.persistCatalog ?? false,
    auth: auth === 'off' ? false : { ...auth.root, decisionCacheMs: auth.decisionCacheMs },
    storage: s3?.storage,
    maintenance: options.maintenance ?? false,
  });
  const client = clientFor(server.endpoint);
  return {
    url: server.endpoint,
    client,
    service: server.service,
    dataDir,
    close: async () => {
      client.destroy();
      await server.stop();
      await s3?.close();
      if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn`, expecting an AWS error of `name` with `status`; returns the error for more checks. */
export async function expectAwsError(
  promise: Promise<unknown>,
  name: string,
  status: number,
): Promise<Error & { $metadata: { httpStatusCode?: number }; fieldList?: { path: string; message: string }[] }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { $metadata: { httpStatusCode?: number } };
    expect({ name: e.name, status: e.$metadata?.httpStatusCode, message: e.message }).toMatchObject({ name, status });
    return e as never;
  }
  throw new Error(`expected ${name}, but the call succeeded`);
}

let counter = 0;
/** A bucket or index name unique within the test run. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

// The scheduled optimize run's surroundings for handler tests: a real DynamoDB-protocol catalog
// (dynalite), Lance tables in a temp folder read as the Lambdas read them, and a stub of the
// Fargate launcher that records what it was asked to start.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoCatalog } from '../../lambdas/adapters/dynamo-catalog';
import { serviceConfigFromEnv } from '../../lambdas/core/config';
import type { Deps } from '../../lambdas/core/deps';
import { startDynalite, type EmbeddedDynamo } from '../../lambdas/local/dynalite';
import type { JobLauncher, JobRequest } from '../../lambdas/maintenance/job-launcher';
import { createDeps, type RuntimeSettings } from '../../lambdas/runtime/deps';

export interface ScheduledHarness {
  table: string;
  dynamo: EmbeddedDynamo;
  client: DynamoDBClient;
  dataDir: string;
  settings: RuntimeSettings;
  deps: Deps;
}

/** Registers beforeAll/afterAll; the fields are set once beforeAll ran. */
export function useScheduledHarness(table: string): ScheduledHarness {
  const h = { table } as ScheduledHarness;
  beforeAll(async () => {
    h.dynamo = await startDynalite();
    h.client = new DynamoDBClient({ endpoint: h.dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    await new DynamoCatalog(h.client, table).ensureTable();
    h.dataDir = mkdtempSync(join(tmpdir(), `${table}-`));
    h.settings = {
      // The service config the Lambda would read: only region and account matter to maintenance.
      config: serviceConfigFromEnv({ S3V_REGION: 'us-east-1', S3V_ACCOUNT_ID: '123456789012' }),
      table,
      dynamo: h.client,
      storage: { uri: join(h.dataDir, 'vectors'), readConsistencySeconds: 0 },
    };
    h.deps = createDeps(h.settings);
  });
  afterAll(async () => {
    h.client?.destroy();
    await h.dynamo?.close();
    if (h.dataDir) rmSync(h.dataDir, { recursive: true, force: true });
  });
  return h;
}

export function stubLauncher(): JobLauncher & { requests: JobRequest[] } {
  const requests: JobRequest[] = [];
  return { requests, start: async (request) => (requests.push(request), `arn:aws:ecs:us-east-1:123456789012:task/cluster/${requests.length}`) };
}

// The hand-off of an index build too long for one optimize invocation (handler.ts) to a job that
// runs the same maintenance code for that one index without a time limit (job.ts): an ECS Fargate
// task of the stack (lib/maintenance-job.ts). Both sides hold the index's lease in the catalog
// (lambdas/adapters/maintenance-lease.ts), so a Lambda run and a job never maintain one index at
// once, and no second job starts while one runs.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { indexLeaseName, MaintenanceLease } from '../adapters/maintenance-lease';
import type { IndexRecord } from '../core/ports';

/** How the optimize Lambda starts a job (set by the stack). */
export const JOB_LAUNCH_ENV = {
  cluster: 'S3V_JOB_CLUSTER',
  taskDefinition: 'S3V_JOB_TASK_DEFINITION',
  container: 'S3V_JOB_CONTAINER',
  subnets: 'S3V_JOB_SUBNETS',
  securityGroup: 'S3V_JOB_SECURITY_GROUP',
} as const;

/** What one job is told (container environment overrides): the index, and the lease it holds. */
export const JOB_ENV = {
  bucket: 'S3V_JOB_BUCKET',
  index: 'S3V_JOB_INDEX',
  storageId: 'S3V_JOB_STORAGE_ID',
  holder: 'S3V_JOB_LEASE_HOLDER',
} as const;

/**
 * A job's lease lasts this long and is renewed every quarter of it while the job runs, so a job
 * that dies (task stopped, never placed) blocks its index for at most this long; the next scheduled
 * run then starts another.
 */
export const JOB_LEASE_MS = 20 * 60_000;

/** The per-index lease, the same item the shared service's processes take (lambdas/cluster/leased-pass.ts). */
export function indexLease(client: DynamoDBClient, table: string, storageId: string, holder?: string): MaintenanceLease {
  return new MaintenanceLease(client, table, { name: indexLeaseName(storageId), ...(holder && { holder }) });
}

export interface JobRequest {
  index: IndexRecord;
  /** The lease holder id the job takes over (the Lambda took the lease under it). */
  leaseHolder: string;
}

export interface JobLauncher {
  /** Starts a job for the index; resolves with its id (the task ARN), rejects when none started. */
  start(request: JobRequest): Promise<string>;
}

/** The environment a job gets for `request`. */
export function jobEnvironment(request: JobRequest): Record<string, string> {
  return {
    [JOB_ENV.bucket]: request.index.bucketName,
    [JOB_ENV.index]: request.index.name,
    [JOB_ENV.storageId]: request.index.storageId,
    [JOB_ENV.holder]: request.leaseHolder,
  };
}

/** The shape of @aws-sdk/client-ecs's RunTask this needs (a stub in tests). */
export interface EcsRunTask {
  runTask(input: {
    cluster: string;
    taskDefinition: string;
    launchType: 'FARGATE';
    count: number;
    startedBy: string;
    networkConfiguration: { awsvpcConfiguration: { subnets: string[]; securityGroups: string[]; assignPublicIp: 'ENABLED' } };
    overrides: { containerOverrides: { name: string; environment: { name: string; value: string }[] }[] };
  }): Promise<{ tasks?: { taskArn?: string }[]; failures?: { arn?: string; reason?: string; detail?: string }[] }>;
}

function realEcs(region?: string): EcsRunTask {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ecs = require('@aws-sdk/client-ecs') as typeof import('@aws-sdk/client-ecs');
  const client = new ecs.ECSClient({ region, maxAttempts: 3 });
  return { runTask: (input) => client.send(new ecs.RunTaskCommand(input)) };
}

/** The Fargate launcher the stack configures, or undefined when the stack has no job (optimize.job: false). */
export function ecsJobLauncherFromEnv(env: NodeJS.ProcessEnv = process.env, ecs?: EcsRunTask): JobLauncher | undefined {
  const cluster = env[JOB_LAUNCH_ENV.cluster];
  const taskDefinition = env[JOB_LAUNCH_ENV.taskDefinition];
  const container = env[JOB_LAUNCH_ENV.container];
  const subnets = (env[JOB_LAUNCH_ENV.subnets] ?? '').split(',').filter(Boolean);
  const securityGroup = env[JOB_LAUNCH_ENV.securityGroup];
  if (!cluster || !taskDefinition || !container || !subnets.length || !securityGroup) return undefined;
  let client = ecs;
  return {
    async start(request) {
      client ??= realEcs(env.S3V_REGION ?? env.AWS_REGION);
      const out = await client.runTask({
        cluster,
        taskDefinition,
        launchType: 'FARGATE',
        count: 1,
        startedBy: 'open-s3vectors-optimize',
        // Public subnets without a NAT gateway: the task needs a public IP to pull its image and
        // reach the APIs (S3 and DynamoDB go through the VPC's gateway endpoints); nothing reaches in.
        networkConfiguration: { awsvpcConfiguration: { subnets, securityGroups: [securityGroup], assignPublicIp: 'ENABLED' } },
        overrides: { containerOverrides: [{ name: container, environment: Object.entries(jobEnvironment(request)).map(([name, value]) => ({ name, value })) }] },
      });
      const arn = out.tasks?.[0]?.taskArn;
      if (!arn) {
        const why = (out.failures ?? []).map((f) => [f.reason, f.detail].filter(Boolean).join(': ')).join('; ');
        throw new Error(`ECS started no task${why ? `: ${why}` : ''}`);
      }
      return arn;
    },
  };
}

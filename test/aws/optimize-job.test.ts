// The hand-off of builds too long for one optimize invocation to the Fargate job: the scheduled
// handler (real DynamoDB protocol through dynalite, real LanceDB tables in a temp dir, a stubbed
// ECS launcher) and the job's entry (lambdas/maintenance/job.ts) on the same storage — in process,
// and as the bundle its image runs (built with the image's own esbuild command).
import { execFileSync, spawn } from 'node:child_process';
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoCatalog } from '../../lambdas/adapters/dynamo-catalog';
import { vectorIndexOf } from '../../lambdas/adapters/lance/index-stats';
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { serviceConfigFromEnv } from '../../lambdas/core/config';
import type { Deps } from '../../lambdas/core/deps';
import type { IndexRecord } from '../../lambdas/core/ports';
import { startDynalite, type EmbeddedDynamo } from '../../lambdas/local/dynalite';
import { DEFAULT_MAINTENANCE_CONFIG, type MaintenanceConfig } from '../../lambdas/maintenance/config';
import { runScheduled } from '../../lambdas/maintenance/handler';
import { ecsJobLauncherFromEnv, JOB_ENV, jobEnvironment, type JobLauncher, type JobRequest } from '../../lambdas/maintenance/job-launcher';
import { runJob } from '../../lambdas/maintenance/job';
import { createDeps, type RuntimeSettings } from '../../lambdas/runtime/deps';
import { indexRecord, putAll, rows } from '../maintenance/helpers';

const ROOT = resolve(__dirname, '..', '..');
const TABLE = 'optimize-job-test';
const DIM = 8;
let dynamo: EmbeddedDynamo;
let client: DynamoDBClient;
let dataDir: string;
let settings: RuntimeSettings;
let deps: Deps;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dynamo = await startDynalite();
  client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await new DynamoCatalog(client, TABLE).ensureTable();
  dataDir = mkdtempSync(join(tmpdir(), 'optimize-job-'));
  env = {
    ...process.env,
    S3V_TABLE: TABLE,
    S3V_DYNAMODB_ENDPOINT: dynamo.endpoint,
    S3V_STORAGE_URI: join(dataDir, 'vectors'),
    S3V_REGION: 'us-east-1',
    S3V_ACCOUNT_ID: '123456789012',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    // The ANN threshold low enough for a small test index.
    S3V_MAINT_ANN_MIN_ROWS: '256',
  };
  settings = {
    // The service config the Lambda would read: only region and account matter to maintenance.
    config: serviceConfigFromEnv({ S3V_REGION: 'us-east-1', S3V_ACCOUNT_ID: '123456789012' }),
    table: TABLE,
    dynamo: client,
    storage: { uri: join(dataDir, 'vectors'), readConsistencySeconds: 0 },
  };
  deps = createDeps(settings);
});
afterAll(async () => {
  client.destroy();
  await dynamo.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const store = () => deps.store as LanceVectorStore;
let bucketN = 0;

/** A bucket with one index of `count` rows (past the ANN threshold), in the catalog and in Lance. */
async function seededIndex(count = 300): Promise<IndexRecord> {
  const bucket = `jobs-${++bucketN}`;
  const index = { ...indexRecord(`idx`, DIM), bucketName: bucket, arn: `arn:aws:s3vectors:us-east-1:123456789012:bucket/${bucket}/index/idx` };
  await deps.catalog.createBucket({ name: bucket, arn: `arn:aws:s3vectors:us-east-1:123456789012:bucket/${bucket}`, creationTime: 0, encryption: { sseType: 'AES256' }, defaultIndexMode: 'ENHANCED', tags: {} } as never);
  await deps.catalog.createIndex(index);
  await putAll(store(), index, rows('k', 0, count, DIM, bucketN));
  return index;
}

const config = (buildFloatsPerSecond: number): MaintenanceConfig => ({ ...DEFAULT_MAINTENANCE_CONFIG, annMinRows: 256, buildFloatsPerSecond });
/** 300 rows × 8-d = 2,400 floats: at 1 float/s the build takes 40 minutes, past a 60 s run. */
const SLOW = 1;
const FAST = 1e9;
const BUDGET_MS = 60_000;

function stubLauncher(fail = false): JobLauncher & { requests: JobRequest[] } {
  const requests: JobRequest[] = [];
  return {
    requests,
    async start(request) {
      requests.push(request);
      if (fail) throw new Error('ECS started no task: RESOURCE:ENI');
      return `arn:aws:ecs:us-east-1:123456789012:task/cluster/${requests.length}`;
    },
  };
}

const leaseItem = async (storageId: string) =>
  (await client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `LEASE#index#${storageId}` }, sk: { S: '-' } }, ConsistentRead: true }))).Item;
const hasAnn = async (index: IndexRecord) => vectorIndexOf((await store().tableStats(index))!) !== undefined;

/** Drops the indexes of earlier tests from the catalog, so each run sees only the current one. */
async function onlyIndex(index: IndexRecord): Promise<void> {
  for (const b of (await deps.catalog.listBuckets({ limit: 100 })).items) {
    if (b.name === index.bucketName) continue;
    for (const i of (await deps.catalog.listIndexes(b.name, { limit: 100 })).items) await deps.catalog.deleteIndex(b.name, i.name);
  }
}

describe('the scheduled optimize hands builds too long for one run to a job', () => {
  it('over budget: exactly one job is started, with the index, and it holds the index’s lease', async () => {
    const index = await seededIndex();
    await onlyIndex(index);
    const launcher = stubLauncher();
    const out = (await runScheduled(deps, settings, { budgetMs: BUDGET_MS, config: config(SLOW), launcher })) as Extract<Awaited<ReturnType<typeof runScheduled>>, { jobs: unknown }>;
    expect(launcher.requests).toHaveLength(1);
    expect(launcher.requests[0].index).toMatchObject({ bucketName: index.bucketName, name: 'idx', storageId: index.storageId });
    expect(out.jobs).toEqual([{ index: `${index.bucketName}/idx`, storageId: index.storageId, job: expect.stringContaining(':task/') }]);
    expect(await hasAnn(index)).toBe(false);
    // The lease is the job's now (same holder id), for the job's lease time.
    const item = await leaseItem(index.storageId);
    expect(item?.holder?.S).toBe(launcher.requests[0].leaseHolder);
    expect(Number(item?.expiresAt?.N)).toBeGreaterThan(Date.now() + 15 * 60_000);
    // The job's environment names the index and the holder.
    expect(jobEnvironment(launcher.requests[0])).toEqual({
      [JOB_ENV.bucket]: index.bucketName,
      [JOB_ENV.index]: 'idx',
      [JOB_ENV.storageId]: index.storageId,
      [JOB_ENV.holder]: launcher.requests[0].leaseHolder,
    });

    // While the job runs (its lease held), the next runs start none and leave the index alone.
    const again = stubLauncher();
    const next = (await runScheduled(deps, settings, { budgetMs: BUDGET_MS, config: config(SLOW), launcher: again })) as { indexes: { outcome: string }[]; jobs: unknown[] };
    expect(again.requests).toHaveLength(0);
    expect(next.jobs).toEqual([]);
    expect(next.indexes).toEqual([{ index: `${index.bucketName}/idx`, outcome: 'held', actions: [], deferred: [] }]);

    // The job itself (same maintenance code, no time limit) builds the index and gives the lease back.
    const result = await runJob({ env: { ...env, ...jobEnvironment(launcher.requests[0]) }, settings, deps });
    expect(result.outcome).toBe('done');
    expect(result.outcome === 'done' && result.report.actions.map((a) => a.kind)).toContain('vector-index');
    expect(await hasAnn(index)).toBe(true);
    expect(await leaseItem(index.storageId)).toBeUndefined();

    // Built: later runs neither defer it nor start another job.
    const after = stubLauncher();
    await runScheduled(deps, settings, { budgetMs: BUDGET_MS, config: config(SLOW), launcher: after });
    expect(after.requests).toHaveLength(0);
  });

  it('under budget: built in the Lambda as before, no job', async () => {
    const index = await seededIndex();
    await onlyIndex(index);
    const launcher = stubLauncher();
    const out = (await runScheduled(deps, settings, { budgetMs: BUDGET_MS, config: config(FAST), launcher })) as { jobs: unknown[]; indexes: { actions: string[] }[] };
    expect(launcher.requests).toHaveLength(0);
    expect(out.jobs).toEqual([]);
    expect(out.indexes[0].actions).toContain('vector-index');
    expect(await hasAnn(index)).toBe(true);
    expect(await leaseItem(index.storageId)).toBeUndefined();
  });

  it('a job that could not be started frees the index: the next run tries again', async () => {
    const index = await seededIndex();
    await onlyIndex(index);
    const failing = stubLauncher(true);
    const out = (await runScheduled(deps, settings, { budgetMs: BUDGET_MS, config: config(SLOW), launcher: failing })) as { jobs: { error?: string }[] };
    expect(failing.requests).toHaveLength(1);
    expect(out.jobs[0].error).toMatch(/RESOURCE:ENI/);
    expect(await leaseItem(index.storageId)).toBeUndefined();
    const retry = stubLauncher();
    await runScheduled(deps, settings, { budgetMs: BUDGET_MS, config: config(SLOW), launcher: retry });
    expect(retry.requests).toHaveLength(1);
  });

  it('without a job in the stack, a long build stays deferred (as before)', async () => {
    const index = await seededIndex();
    await onlyIndex(index);
    const out = (await runScheduled(deps, settings, { budgetMs: BUDGET_MS, config: config(SLOW) })) as { jobs: unknown[]; indexes: { deferred: string[] }[] };
    expect(out.jobs).toEqual([]);
    expect(out.indexes[0].deferred).toContain('vector-index');
    expect(await leaseItem(index.storageId)).toBeUndefined();
  });
});

describe('the job', () => {
  it('does nothing when another holder has the index’s lease', async () => {
    const index = await seededIndex();
    const other = await client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { pk: { S: `LEASE#index#${index.storageId}` }, sk: { S: '-' }, holder: { S: 'a-lambda-run' }, expiresAt: { N: String(Date.now() + 60_000) } },
      }),
    );
    expect(other).toBeDefined();
    const result = await runJob({ env: { ...env, ...jobEnvironment({ index, leaseHolder: 'the-job' }) }, settings, deps });
    expect(result).toEqual({ outcome: 'held' });
    expect(await hasAnn(index)).toBe(false);
    expect((await leaseItem(index.storageId))?.holder?.S).toBe('a-lambda-run');
    await client.send(new DeleteItemCommand({ TableName: TABLE, Key: { pk: { S: `LEASE#index#${index.storageId}` }, sk: { S: '-' } } }));
  });

  it('an index deleted since the job was started: nothing built, lease given back', async () => {
    const index = await seededIndex();
    await deps.catalog.deleteIndex(index.bucketName, index.name);
    const result = await runJob({ env: { ...env, ...jobEnvironment({ index, leaseHolder: 'the-job' }) }, settings, deps });
    expect(result).toEqual({ outcome: 'gone' });
    expect(await leaseItem(index.storageId)).toBeUndefined();
  });

  it('renews its lease while it runs, and stops when another holder has taken it', async () => {
    const index = await seededIndex();
    let lost = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // A catalog that answers only once the lease has been lost (the job is "building" meanwhile), then
    // with no index, so that the job ends there: in its container, losing the lease exits at once.
    const slowDeps = { ...deps, catalog: { ...deps.catalog, getIndex: async () => (await gate, undefined) } } as unknown as Deps;
    const running = runJob({ env: { ...env, ...jobEnvironment({ index, leaseHolder: 'the-job' }) }, settings, deps: slowDeps, leaseMs: 2000, renewEveryMs: 100, onLeaseLost: () => (lost++, release()) });
    // The job takes its lease, then renews it: its expiry moves on past the first one seen (polled,
    // as a loaded machine may take a while to start the job; a fixed 400 ms sleep raced it).
    let first: number | undefined;
    let renewed: number | undefined;
    const until = Date.now() + 30_000;
    while (renewed === undefined && Date.now() < until) {
      const item = await leaseItem(index.storageId);
      const expiresAt = item?.holder?.S === 'the-job' ? Number(item.expiresAt?.N) : undefined;
      if (expiresAt !== undefined && first === undefined) first = expiresAt;
      else if (expiresAt !== undefined && expiresAt > first!) renewed = expiresAt;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(first).toBeDefined();
    expect(renewed).toBeDefined();
    // Another holder takes over (as after an expiry).
    await client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { pk: { S: `LEASE#index#${index.storageId}` }, sk: { S: '-' }, holder: { S: 'someone-else' }, expiresAt: { N: String(Date.now() + 60_000) } },
      }),
    );
    expect(await running).toEqual({ outcome: 'gone' });
    expect(lost).toBeGreaterThanOrEqual(1);
    // Its release does not free the new holder's lease.
    expect((await leaseItem(index.storageId))?.holder?.S).toBe('someone-else');
    await client.send(new DeleteItemCommand({ TableName: TABLE, Key: { pk: { S: `LEASE#index#${index.storageId}` }, sk: { S: '-' } } }));
  });

  it('the image’s entry: the bundle its Dockerfile builds runs the job as a process and exits 0', async () => {
    const index = await seededIndex();
    const dockerfile = readFileSync(join(ROOT, 'lib', 'maintenance-job.Dockerfile'), 'utf8');
    const command = /^RUN npx (esbuild .*)$/m.exec(dockerfile)?.[1];
    expect(command).toBeDefined();
    const outDir = join(ROOT, '.tmp', 'job-bundle');
    mkdirSync(outDir, { recursive: true });
    const args = command!.split(/\s+/).slice(1).map((a) => a.replace('--outfile=/out/job.js', `--outfile=${join(outDir, 'job.js')}`));
    execFileSync(join(ROOT, 'node_modules', '.bin', 'esbuild'), args, { cwd: ROOT, stdio: 'pipe' });
    const child = spawn(process.execPath, [join(outDir, 'job.js')], {
      cwd: ROOT,
      env: { ...env, ...jobEnvironment({ index, leaseHolder: 'process-job' }), S3V_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' });
    expect(output).toMatch(/maintenance job done/);
    expect(await hasAnn(index)).toBe(true);
    expect(await leaseItem(index.storageId)).toBeUndefined();
  }, 120_000);

  it('the ECS launcher: RunTask of the stack’s task definition, public IP, the job’s environment; ECS failures are errors', async () => {
    const calls: unknown[] = [];
    const launchEnv = {
      S3V_JOB_CLUSTER: 'arn:aws:ecs:us-east-1:123456789012:cluster/c',
      S3V_JOB_TASK_DEFINITION: 'arn:aws:ecs:us-east-1:123456789012:task-definition/t:3',
      S3V_JOB_CONTAINER: 'maintenance',
      S3V_JOB_SUBNETS: 'subnet-1,subnet-2',
      S3V_JOB_SECURITY_GROUP: 'sg-1',
    };
    let answer: { tasks?: { taskArn?: string }[]; failures?: { reason?: string }[] } = { tasks: [{ taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/c/abc' }] };
    const launcher = ecsJobLauncherFromEnv(launchEnv, { runTask: async (input) => (calls.push(input), answer) })!;
    const index = indexRecord('idx', DIM);
    expect(await launcher.start({ index, leaseHolder: 'h' })).toBe('arn:aws:ecs:us-east-1:123456789012:task/c/abc');
    expect(calls[0]).toEqual({
      cluster: launchEnv.S3V_JOB_CLUSTER,
      taskDefinition: launchEnv.S3V_JOB_TASK_DEFINITION,
      launchType: 'FARGATE',
      count: 1,
      startedBy: 'open-s3vectors-optimize',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1', 'subnet-2'], securityGroups: ['sg-1'], assignPublicIp: 'ENABLED' } },
      overrides: { containerOverrides: [{ name: 'maintenance', environment: Object.entries(jobEnvironment({ index, leaseHolder: 'h' })).map(([name, value]) => ({ name, value })) }] },
    });
    answer = { failures: [{ reason: 'RESOURCE:MEMORY' }] };
    await expect(launcher.start({ index, leaseHolder: 'h' })).rejects.toThrow('ECS started no task: RESOURCE:MEMORY');
    expect(ecsJobLauncherFromEnv({})).toBeUndefined();
  });
});

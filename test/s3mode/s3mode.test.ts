// S3 mode end to end: the BUNDLED Lambda handlers, as `cdk synth` builds them (code asset + LanceDB
// layer on NODE_PATH, loaded from outside the repository), run in child processes against s3rver
// (S3) and dynalite (DynamoDB) on loopback, with the environment the stack gives them in AWS —
// s3+ddb:// storage with Lance's DynamoDB commit store — plus endpoint overrides. A fake API
// Gateway turns SDK requests into REST proxy events exactly shaped like API Gateway's with IAM auth.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { App } from 'aws-cdk-lib';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ConflictException,
  CreateIndexCommand,
  CreateVectorBucketCommand,
  DeleteIndexCommand,
  DeleteVectorBucketCommand,
  DeleteVectorsCommand,
  GetIndexCommand,
  GetVectorBucketCommand,
  GetVectorsCommand,
  InternalServerException,
  ListIndexesCommand,
  ListTagsForResourceCommand,
  ListVectorBucketsCommand,
  ListVectorsCommand,
  NotFoundException,
  PutVectorsCommand,
  QueryVectorsCommand,
  S3VectorsClient,
  TagResourceCommand,
  UntagResourceCommand,
  ValidationException,
} from '@aws-sdk/client-s3vectors';
import { ACCOUNT, CALLER, gatewayAnswer, gatewayLimit, gatewayResponsesOf, REGION, restEvent, STAGE, type GatewayResponses } from './api-gateway';
import { vectorsPerPut } from '../../lambdas/runtime/payload-limits';
import { S3VectorsStack } from '../../lib/s3vectors-stack';
import { startS3rver, type LocalS3 } from '../helpers/s3rver';

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;

const BUCKET = 'open-s3vectors-data';
const CATALOG = 'open-s3vectors-catalog';
const COMMITS = 'open-s3vectors-commits';

jest.setTimeout(480_000);

// --- the synthesized assets -------------------------------------------------------------------

interface Assets {
  layerModules: string;
  /** operation name → index.js of its function asset */
  bundles: Record<string, string>;
  /** the environment the stack gives the functions, with CloudFormation references resolved */
  environment: Record<string, string>;
  /** the stack's API Gateway gateway responses, by type */
  gatewayResponses: GatewayResponses;
}

/** Resolves the few intrinsics the stack's environment uses, as CloudFormation would here. */
function resolveIntrinsic(value: unknown, refs: Record<string, string>): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  if (v.Ref) {
    if (!(v.Ref in refs)) throw new Error(`unresolved Ref ${v.Ref}`);
    return refs[v.Ref];
  }
  if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map((p) => resolveIntrinsic(p, refs)).join(v['Fn::Join'][0]);
  throw new Error(`unsupported intrinsic ${JSON.stringify(value)}`);
}

function synthesize(outdir: string): Assets {
  // Asset metadata (aws:asset:path) is what the CLI turns on; it names each function's bundle folder.
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new S3VectorsStack(app, 'S3Mode', { optimize: false });
  const assembly = app.synth();
  const template = assembly.getStackByName('S3Mode').template as { Resources: Record<string, any> };
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as any);
  const bundles: Record<string, string> = {};
  for (const [name, fn] of Object.entries(stack.functions)) {
    bundles[name] = join(outdir, template.Resources[id(fn)].Metadata['aws:asset:path'], 'index.js');
  }
  const layer = template.Resources[id(stack.layer)];
  const refs = {
    [id(stack.catalogTable)]: CATALOG,
    [id(stack.commitTable)]: COMMITS,
    [id(stack.dataBucket)]: BUCKET,
    'AWS::Region': REGION,
    'AWS::AccountId': ACCOUNT,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const variables = template.Resources[id(stack.functions.PutVectors)].Properties.Environment.Variables as Record<string, unknown>;
  const environment = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, resolveIntrinsic(v, refs)]));
  return {
    layerModules: join(outdir, layer.Metadata['aws:asset:path'], 'nodejs', 'node_modules'),
    bundles,
    environment,
    gatewayResponses: gatewayResponsesOf(template.Resources),
  };
}

// --- a Lambda host: a Node process running bundled handlers, like a Lambda execution environment ----

const HOST_SCRIPT = `
const handlers = new Map();
process.on('message', async (msg) => {
  const started = process.hrtime.bigint();
  let loadMs = 0;
  try {
    let handler = handlers.get(msg.bundle);
    if (!handler) {
      handler = require(msg.bundle).handler;
      handlers.set(msg.bundle, handler);
      loadMs = Number(process.hrtime.bigint() - started) / 1e6;
    }
    const context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: msg.functionName, functionVersion: '$LATEST', memoryLimitInMB: '2048',
      invokedFunctionArn: 'arn:aws:lambda:${REGION}:${ACCOUNT}:function:' + msg.functionName,
      awsRequestId: msg.event.requestContext.requestId, logGroupName: '/aws/lambda/' + msg.functionName, logStreamName: 'local',
      getRemainingTimeInMillis: () => Number(process.env.LAMBDA_TIME_BUDGET_MS || 29000), done() {}, fail() {}, succeed() {},
    };
    const result = await handler(msg.event, context);
    process.send({ id: msg.id, result, loadMs, totalMs: Number(process.hrtime.bigint() - started) / 1e6 });
  } catch (error) {
    process.send({ id: msg.id, error: String(error && error.stack || error) });
  }
});
process.send({ ready: true, natives: () => null });
`;

interface Invocation {
  result: APIGatewayProxyResult;
  loadMs: number;
  totalMs: number;
}

class LambdaHost {
  private readonly pending = new Map<string, { resolve(v: Invocation): void; reject(e: Error): void }>();
  readonly ready: Promise<void>;
  readonly child: ChildProcess;

  constructor(script: string, cwd: string, env: Record<string, string>) {
    this.child = fork(script, [], { cwd, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('message', () => resolve());
    });
    this.child.on('message', (msg: any) => {
      const waiter = msg.id && this.pending.get(msg.id);
      if (!waiter) return;
      this.pending.delete(msg.id);
      if (msg.error) waiter.reject(new Error(msg.error));
      else waiter.resolve(msg);
    });
    this.child.on('exit', (code) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`lambda host exited with ${code}`));
      this.pending.clear();
    });
  }

  invoke(bundle: string, functionName: string, event: APIGatewayProxyEvent): Promise<Invocation> {
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, bundle, functionName, event });
    });
  }

  close(): Promise<void> {
    if (this.child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill();
    });
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// --- the environment ----------------------------------------------------------------------------

let workdir: string;
let assets: Assets;
let s3: LocalS3;
let dynamo: Server;
let dynamoEndpoint: string;
const dynamoCalls: { target: string; table: string }[] = [];
let hostScript: string;
let hostEnv: Record<string, string>;
let host: LambdaHost;
let gateway: Server;
let client: S3VectorsClient;
const invokedOperations = new Set<string>();
const gatewayLog: { operation: string; refused?: string; dropped?: string; status: number }[] = [];

function newHost(env: Record<string, string> = {}): LambdaHost {
  return new LambdaHost(hostScript, workdir, { ...hostEnv, ...env });
}

async function invoke(h: LambdaHost, operation: string, event: APIGatewayProxyEvent): Promise<Invocation> {
  invokedOperations.add(operation);
  return h.invoke(assets.bundles[operation], `S3Mode-${operation}Function`, event);
}

beforeAll(async () => {
  workdir = mkdtempSync(join(tmpdir(), 's3mode-'));
  const started = Date.now();
  assets = synthesize(join(workdir, 'cdk.out'));
  console.log(`synthesized and bundled ${Object.keys(assets.bundles).length} functions in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  s3 = await startS3rver([BUCKET]);
  dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  dynamo.prependListener('request', (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      let table = '';
      try {
        table = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { TableName?: string }).TableName ?? '';
      } catch {
        // not JSON
      }
      dynamoCalls.push({ target, table });
    });
  });
  await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', () => resolve()));
  dynamoEndpoint = `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`;

  // What CloudFormation would create: the catalog table and Lance's commit table.
  const ddb = new DynamoDBClient({ endpoint: dynamoEndpoint, region: REGION, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  await ddb.send(
    new CreateTableCommand({
      TableName: CATALOG,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await ddb.send(
    new CreateTableCommand({
      TableName: COMMITS,
      AttributeDefinitions: [{ AttributeName: 'base_uri', AttributeType: 'S' }, { AttributeName: 'version', AttributeType: 'N' }],
      KeySchema: [{ AttributeName: 'base_uri', KeyType: 'HASH' }, { AttributeName: 'version', KeyType: 'RANGE' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  ddb.destroy();
  dynamoCalls.length = 0;

  // The stack's environment, as in AWS, plus only what points it at the local servers.
  const storageOptions = {
    ...(JSON.parse(assets.environment.S3V_STORAGE_OPTIONS) as Record<string, string>),
    aws_endpoint: s3.endpoint,
    allow_http: 'true',
    aws_access_key_id: 'S3RVER',
    aws_secret_access_key: 'S3RVER',
    dynamodb_endpoint: dynamoEndpoint,
  };
  hostEnv = {
    PATH: process.env.PATH ?? '',
    HOME: workdir,
    // What Lambda sets.
    NODE_PATH: assets.layerModules,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    LAMBDA_TASK_ROOT: workdir,
    S3V_LOG_LEVEL: process.env.S3MODE_LOG_LEVEL ?? 'silent',
    ...assets.environment,
    S3V_STORAGE_OPTIONS: JSON.stringify(storageOptions),
    S3V_DYNAMODB_ENDPOINT: dynamoEndpoint,
  };
  hostScript = join(workdir, 'lambda-host.js');
  writeFileSync(hostScript, HOST_SCRIPT);
  host = newHost();
  await host.ready;

  gateway = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const prefix = `/${STAGE}`;
      if (!url.pathname.startsWith(prefix + '/')) throw Object.assign(new Error('no stage'), { status: 403 });
      const rawPath = (req.url ?? '/').split('?')[0].slice(prefix.length);
      const headers: Record<string, string> = {};
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers[req.rawHeaders[i]] = req.rawHeaders[i + 1];
      const body = await readBody(req);
      const { event, operation } = restEvent(req.method ?? 'GET', rawPath, url.searchParams, headers, body);
      // API Gateway's and Lambda's payload limits, answered with the stack's gateway responses.
      const refused = gatewayLimit('body', body) ?? gatewayLimit('event', event);
      let result = refused ? gatewayAnswer(assets.gatewayResponses, refused) : (await invoke(host, operation, event)).result;
      const dropped = !refused && gatewayLimit('result', result);
      if (dropped) result = gatewayAnswer(assets.gatewayResponses, dropped);
      gatewayLog.push({ operation, refused, dropped: dropped || undefined, status: result.statusCode });
      res.writeHead(result.statusCode, result.headers as Record<string, string>);
      res.end(result.body);
    } catch (error) {
      res.writeHead((error as { status?: number }).status ?? 502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: String(error) }));
    }
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', () => resolve()));
  client = new S3VectorsClient({
    endpoint: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/${STAGE}`,
    region: REGION,
    credentials: { accessKeyId: CALLER.accessKey, secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    maxAttempts: 1,
  });
}, 240_000);

afterAll(async () => {
  client?.destroy();
  await new Promise<void>((resolve) => (gateway ? gateway.close(() => resolve()) : resolve()));
  await host?.close();
  await s3?.close();
  await new Promise<void>((resolve) => (dynamo ? dynamo.close(() => resolve()) : resolve()));
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

// --- the tests ------------------------------------------------------------------------------------

const vector = (i: number, dim = 4) => Array.from({ length: dim }, (_, d) => Math.cos(i * 0.7 + d) + (d === 0 ? 1 : 0));

describe('S3 mode (bundled handlers, s3rver + dynalite, s3+ddb://)', () => {
  test('the functions get s3+ddb:// storage and load LanceDB from the layer', () => {
    expect(assets.environment.S3V_STORAGE_URI).toBe(`s3+ddb://${BUCKET}/vectors?ddbTableName=${COMMITS}`);
    expect(assets.environment.S3V_TABLE).toBe(CATALOG);
    expect(JSON.parse(assets.environment.S3V_STORAGE_OPTIONS)).toEqual({ aws_region: REGION });
    expect(readFileSync(assets.bundles.PutVectors, 'utf8').length).toBeGreaterThan(1000);
  });

  test('an SDK flow: buckets, indexes, vectors, query, tags, errors', async () => {
    const vectorBucketName = 'flow-bucket';
    const indexName = 'docs';
    await client.send(new CreateVectorBucketCommand({ vectorBucketName }));
    await expect(client.send(new CreateVectorBucketCommand({ vectorBucketName }))).rejects.toBeInstanceOf(ConflictException);
    const { vectorBucket } = await client.send(new GetVectorBucketCommand({ vectorBucketName }));
    expect(vectorBucket?.vectorBucketArn).toBe(`arn:aws:s3vectors:${REGION}:${ACCOUNT}:bucket/${vectorBucketName}`);
    expect((await client.send(new ListVectorBucketsCommand({}))).vectorBuckets?.map((b) => b.vectorBucketName)).toEqual([vectorBucketName]);

    await client.send(
      new CreateIndexCommand({
        vectorBucketName,
        indexName,
        dataType: 'float32',
        dimension: 4,
        distanceMetric: 'cosine',
        metadataConfiguration: { nonFilterableMetadataKeys: ['text'] },
      }),
    );
    const { index } = await client.send(new GetIndexCommand({ vectorBucketName, indexName }));
    expect(index).toMatchObject({ indexName, dimension: 4, distanceMetric: 'cosine' });
    expect((await client.send(new ListIndexesCommand({ vectorBucketName }))).indexes?.map((i) => i.indexName)).toEqual([indexName]);

    const vectors = Array.from({ length: 12 }, (_, i) => ({
      key: `doc-${String(i).padStart(2, '0')}`,
      data: { float32: vector(i) },
      metadata: { genre: i % 2 ? 'odd' : 'even', year: 2000 + i, text: `document ${i}` },
    }));
    await client.send(new PutVectorsCommand({ vectorBucketName, indexName, vectors: vectors.slice(0, 6) }));
    await client.send(new PutVectorsCommand({ vectorBucketName, indexName, vectors: vectors.slice(6) }));
    await expect(
      client.send(new PutVectorsCommand({ vectorBucketName, indexName, vectors: [{ key: 'bad', data: { float32: [1, 2, 3] } }] })),
    ).rejects.toBeInstanceOf(ValidationException);

    const got = await client.send(new GetVectorsCommand({ vectorBucketName, indexName, keys: ['doc-03', 'missing'], returnData: true, returnMetadata: true }));
    expect(got.vectors).toHaveLength(1);
    expect(got.vectors?.[0].key).toBe('doc-03');
    expect(got.vectors?.[0].data?.float32?.map((x) => Number(x.toFixed(5)))).toEqual(vector(3).map((x) => Number(Math.fround(x).toFixed(5))));
    expect(got.vectors?.[0].metadata).toEqual({ genre: 'odd', year: 2003, text: 'document 3' });

    // ListVectors, paged through cursors kept in the catalog.
    const listed: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListVectorsCommand({ vectorBucketName, indexName, maxResults: 5, nextToken }));
      listed.push(...(page.vectors ?? []).map((v) => v.key!));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(listed.sort()).toEqual(vectors.map((v) => v.key).sort());

    const query = await client.send(
      new QueryVectorsCommand({ vectorBucketName, indexName, queryVector: { float32: vector(4) }, topK: 3, returnDistance: true, returnMetadata: true }),
    );
    expect(query.vectors?.[0].key).toBe('doc-04');
    expect(query.vectors?.[0].distance).toBeCloseTo(0, 4);
    const filtered = await client.send(
      new QueryVectorsCommand({ vectorBucketName, indexName, queryVector: { float32: vector(4) }, topK: 20, filter: { genre: 'odd', year: { $gte: 2005 } } }),
    );
    expect(filtered.vectors?.map((v) => v.key).sort()).toEqual(['doc-05', 'doc-07', 'doc-09', 'doc-11']);

    await client.send(new DeleteVectorsCommand({ vectorBucketName, indexName, keys: ['doc-04', 'doc-05'] }));
    const after = await client.send(new GetVectorsCommand({ vectorBucketName, indexName, keys: ['doc-04', 'doc-05', 'doc-06'] }));
    expect(after.vectors?.map((v) => v.key)).toEqual(['doc-06']);

    // Tags on the index: GET / POST / DELETE /tags/{resourceArn}, the ARN percent-encoded in the path.
    const resourceArn = index!.indexArn!;
    await client.send(new TagResourceCommand({ resourceArn, tags: { team: 'search', env: 'test' } }));
    expect((await client.send(new ListTagsForResourceCommand({ resourceArn }))).tags).toEqual({ team: 'search', env: 'test' });
    await client.send(new UntagResourceCommand({ resourceArn, tagKeys: ['env'] }));
    expect((await client.send(new ListTagsForResourceCommand({ resourceArn }))).tags).toEqual({ team: 'search' });

    await expect(client.send(new GetIndexCommand({ vectorBucketName, indexName: 'nope' }))).rejects.toBeInstanceOf(NotFoundException);
    await expect(client.send(new DeleteVectorBucketCommand({ vectorBucketName }))).rejects.toBeInstanceOf(ConflictException);
    await client.send(new DeleteIndexCommand({ vectorBucketName, indexName }));
    await client.send(new DeleteVectorBucketCommand({ vectorBucketName }));
    await expect(client.send(new GetVectorBucketCommand({ vectorBucketName }))).rejects.toBeInstanceOf(NotFoundException);
  });

  test('the handlers asked S3 and DynamoDB only for what the stack grants', () => {
    // Objects only under the vectors/ prefix; listings only of that prefix (the s3:prefix condition).
    expect(s3.requests.length).toBeGreaterThan(0);
    for (const { method, path } of s3.requests) {
      const [pathname, query = ''] = path.split('?');
      if (pathname === `/${BUCKET}` || pathname === `/${BUCKET}/`) {
        const params = new URLSearchParams(query);
        if (method === 'POST') expect(params.has('delete')).toBe(true); // DeleteObjects = s3:DeleteObject
        else expect(params.get('prefix') ?? '').toMatch(/^vectors(\/|$)/);
      } else {
        expect(pathname.startsWith(`/${BUCKET}/vectors/`)).toBe(true);
      }
    }
    const catalogActions = new Set(dynamoCalls.filter((c) => c.table === CATALOG).map((c) => c.target));
    const commitActions = new Set(dynamoCalls.filter((c) => c.table === COMMITS).map((c) => c.target));
    expect([...catalogActions].every((a) => ['GetItem', 'Query', 'PutItem', 'DeleteItem'].includes(a))).toBe(true);
    expect([...commitActions].every((a) => ['GetItem', 'Query', 'DescribeTable', 'PutItem', 'UpdateItem', 'DeleteItem'].includes(a))).toBe(true);
    expect(commitActions.has('PutItem')).toBe(true); // the s3+ddb commit store was really used
    expect(dynamoCalls.every((c) => c.table === CATALOG || c.table === COMMITS)).toBe(true);
  });

  const WRITERS = 2;
  // Every put takes the index's write lease and commits through s3rver's serialized store, so this
  // many keeps the race (two processes committing to one index) within the budget of a loaded machine.
  const PUTS_PER_WRITER = 200;

  test(`concurrency: ${WRITERS} processes × ${PUTS_PER_WRITER} PutVectors into one index lose and duplicate nothing`, async () => {
    const vectorBucketName = 'race-bucket';
    const indexName = 'race';
    await client.send(new CreateVectorBucketCommand({ vectorBucketName }));
    await client.send(new CreateIndexCommand({ vectorBucketName, indexName, dataType: 'float32', dimension: 4, distanceMetric: 'euclidean' }));
    // This test is about lost or duplicated commits, not latency: on a 2-core machine busy with the
    // rest of the suite, one put behind s3rver's serialized store can outlast Lambda's 29 s budget.
    // (As if API Gateway's integration timeout were raised too: the handlers answer 408 before it.)
    const writers = Array.from({ length: WRITERS }, () => newHost({ LAMBDA_TIME_BUDGET_MS: '120000', S3V_API_GATEWAY_TIMEOUT_MS: '120000' }));
    await Promise.all(writers.map((w) => w.ready));
    const started = Date.now();
    const retried: number[] = [];
    try {
      await Promise.all(
        writers.map(async (writer, w) => {
          let retries = 0;
          for (let i = 0; i < PUTS_PER_WRITER; i++) {
            const body = JSON.stringify({ vectorBucketName, indexName, vectors: [{ key: `w${w}-${String(i).padStart(4, '0')}`, data: { float32: vector(w * 1000 + i) } }] });
            // A client (the SDK) retries 5xx, throttling and RequestTimeoutException (408: the handler
            // answers it before API Gateway's 29 s, and the put may still land); count it, but require success.
            for (let attempt = 0; ; attempt++) {
              const { event } = restEvent('POST', '/PutVectors', new URLSearchParams(), { 'content-type': 'application/json' }, body);
              const { result } = await invoke(writer, 'PutVectors', event);
              if (result.statusCode === 200) break;
              if (result.statusCode < 500 && ![408, 409, 429].includes(result.statusCode)) throw new Error(`PutVectors ${result.statusCode}: ${result.body}`);
              if (attempt >= 8) throw new Error(`PutVectors kept failing: ${result.statusCode} ${result.body}`);
              retries++;
              await new Promise((r) => setTimeout(r, Math.min(2000, 20 * 2 ** attempt)));
            }
          }
          retried[w] = retries;
        }),
      );
    } finally {
      await Promise.all(writers.map((w) => w.close()));
    }
    const seconds = (Date.now() - started) / 1000;

    const keys: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListVectorsCommand({ vectorBucketName, indexName, maxResults: 1000, nextToken }));
      keys.push(...(page.vectors ?? []).map((v) => v.key!));
      nextToken = page.nextToken;
    } while (nextToken);
    const expected = Array.from({ length: WRITERS }, (_, w) => Array.from({ length: PUTS_PER_WRITER }, (_, i) => `w${w}-${String(i).padStart(4, '0')}`)).flat();
    console.log(
      `concurrency: ${WRITERS} writer processes × ${PUTS_PER_WRITER} PutVectors in ${seconds.toFixed(1)} s; client retries per writer: ${retried.join(', ')}; vectors found: ${keys.length} (${new Set(keys).size} distinct)`,
    );
    expect(keys).toHaveLength(expected.length);
    expect(new Set(keys).size).toBe(expected.length);
    expect([...keys].sort()).toEqual(expected.sort());
  });

  test('cold start: a fresh process loads the QueryVectors bundle and serves its first query', async () => {
    const vectorBucketName = 'race-bucket';
    const indexName = 'race';
    const spawned = process.hrtime.bigint();
    const cold = newHost();
    try {
      await cold.ready;
      const bootMs = Number(process.hrtime.bigint() - spawned) / 1e6;
      const body = JSON.stringify({ vectorBucketName, indexName, queryVector: { float32: vector(1005) }, topK: 5, returnDistance: true });
      const { event } = restEvent('POST', '/QueryVectors', new URLSearchParams(), { 'content-type': 'application/json' }, body);
      const first = await invoke(cold, 'QueryVectors', event);
      const totalMs = Number(process.hrtime.bigint() - spawned) / 1e6;
      expect(first.result.statusCode).toBe(200);
      const hits = (JSON.parse(first.result.body) as { vectors: { key: string }[] }).vectors;
      expect(hits[0].key).toBe('w1-0005');
      const { event: again } = restEvent('POST', '/QueryVectors', new URLSearchParams(), { 'content-type': 'application/json' }, body);
      const warm = await invoke(cold, 'QueryVectors', again);
      console.log(
        `cold start (QueryVectors, index of ${WRITERS * PUTS_PER_WRITER} vectors, ${WRITERS * PUTS_PER_WRITER} Lance versions): ` +
          `node boot ${bootMs.toFixed(0)} ms + bundle load ${first.loadMs.toFixed(0)} ms + first query ${(first.totalMs - first.loadMs).toFixed(0)} ms` +
          ` = ${totalMs.toFixed(0)} ms from process spawn to response; warm query ${warm.totalMs.toFixed(0)} ms`,
      );
    } finally {
      await cold.close();
    }
  });

  test('payload limits: bodies over 6 MB / 10 MB get API Gateway’s modeled answers; an answer over 6 MB a ValidationException saying what fits', async () => {
    const vectorBucketName = 'payload-bucket';
    await client.send(new CreateVectorBucketCommand({ vectorBucketName }));
    for (const dimension of [1024, 4096]) {
      await client.send(new CreateIndexCommand({ vectorBucketName, indexName: `d${dimension}`, dataType: 'float32', dimension, distanceMetric: 'cosine' }));
    }
    const make = (n: number, d: number, prefix: string) =>
      Array.from({ length: n }, (_, i) => ({ key: `${prefix}-${i}`, data: { float32: Array.from({ length: d }, (_, j) => Math.sin(i * 31 + j) / 7 - 0.5) } }));
    const bodyBytes = (vectors: unknown[]) => Buffer.byteLength(JSON.stringify({ vectorBucketName, indexName: 'd1024', vectors }));

    // At the documented ceiling for 1,024-d: accepted.
    const atCeiling = make(vectorsPerPut(1024), 1024, 'ok');
    await client.send(new PutVectorsCommand({ vectorBucketName, indexName: 'd1024', vectors: atCeiling }));
    // Over Lambda's 6 MB: the invoke fails; API Gateway's answer names the ceilings.
    const six = make(400, 1024, 'six');
    expect(bodyBytes(six)).toBeGreaterThan(6 * 2 ** 20);
    const over6 = await client.send(new PutVectorsCommand({ vectorBucketName, indexName: 'd1024', vectors: six })).catch((e: Error) => e);
    expect(over6).toBeInstanceOf(InternalServerException);
    expect((over6 as Error).message).toContain('1024-d: 254');
    // Over API Gateway's 10 MB.
    const ten = make(500, 1024, 'ten').map((v) => ({ ...v, key: v.key.padEnd(600, '-') }));
    expect(bodyBytes(ten)).toBeGreaterThan(10 * 2 ** 20);
    const over10 = await client.send(new PutVectorsCommand({ vectorBucketName, indexName: 'd1024', vectors: ten })).catch((e: Error) => e);
    expect(over10).toBeInstanceOf(ValidationException);
    expect((over10 as Error).message).toMatch(/API Gateway: 10 MB.*4096-d: 63/);
    const written = await client.send(new GetVectorsCommand({ vectorBucketName, indexName: 'd1024', keys: ['ok-0', 'six-0', ten[0].key] }));
    expect(written.vectors?.map((v) => v.key)).toEqual(['ok-0']);

    // 100 × 4,096-d with data is over 6 MB as JSON: the handler says how many fit, and that many do.
    for (let b = 0; b < 2; b++) {
      await client.send(new PutVectorsCommand({ vectorBucketName, indexName: 'd4096', vectors: make(50, 4096, `b${b}`) }));
    }
    const keys = [...make(50, 1, 'b0'), ...make(50, 1, 'b1')].map((v) => v.key);
    const tooBig = await client.send(new GetVectorsCommand({ vectorBucketName, indexName: 'd4096', keys, returnData: true })).catch((e: Error) => e);
    expect(tooBig).toBeInstanceOf(ValidationException);
    const fit = Number(/request at most (\d+) keys/.exec((tooBig as Error).message)?.[1]);
    expect(fit).toBeGreaterThan(50);
    const got = await client.send(new GetVectorsCommand({ vectorBucketName, indexName: 'd4096', keys: keys.slice(0, fit), returnData: true }));
    expect(got.vectors).toHaveLength(fit);
    // API Gateway refused the two oversize requests; no answer was ever dropped for size.
    expect(gatewayLog.filter((l) => l.refused).map((l) => l.refused)).toEqual(['INTEGRATION_FAILURE', 'REQUEST_TOO_LARGE']);
    expect(gatewayLog.filter((l) => l.dropped)).toEqual([]);
    console.log(`payload limits: PutVectors 1024-d ceiling ${vectorsPerPut(1024)} vectors (${bodyBytes(atCeiling)} bytes); GetVectors 4096-d with data: ${fit} per call`);
  });

  test('every operation was served by its own bundle', () => {
    for (const name of ['CreateVectorBucket', 'GetVectorBucket', 'ListVectorBuckets', 'DeleteVectorBucket', 'CreateIndex', 'GetIndex', 'ListIndexes', 'DeleteIndex', 'PutVectors', 'GetVectors', 'ListVectors', 'QueryVectors', 'DeleteVectors', 'TagResource', 'UntagResource', 'ListTagsForResource']) {
      expect(invokedOperations.has(name)).toBe(true);
    }
  });
});

// Template assertions on the CDK stack, synthesized without bundling (fast): routes, IAM auth,
// functions, grants, storage settings, schedule, outputs, props.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { ListVectorBucketsCommand, S3VectorsClient } from '@aws-sdk/client-s3vectors';
import * as events from 'aws-cdk-lib/aws-events';
import { operationNames } from '../../lambdas/core/model';
import { operationSpecs } from '../../lib/operations';
import { API_GATEWAY_TIMEOUT_SECONDS, DEFAULT_MAINTENANCE_ENTRY, S3VectorsStack, type S3VectorsStackProps } from '../../lib/s3vectors-stack';

type Resources = Record<string, { Type: string; Properties: Record<string, any>; Metadata?: Record<string, any> }>;

/** The real maintenance handler once it exists; until then a stub, so the schedule is still checked. */
export function maintenanceEntry(): string {
  if (existsSync(DEFAULT_MAINTENANCE_ENTRY)) return DEFAULT_MAINTENANCE_ENTRY;
  // Under the project root (NodejsFunction requires it), in the git-ignored .tmp/.
  const dir = join(__dirname, '..', '..', '.tmp', 'maintenance-stub');
  mkdirSync(dir, { recursive: true });
  const stub = join(dir, 'handler.ts');
  writeFileSync(stub, 'export const handler = async () => ({ optimized: 0 });\n');
  return stub;
}

function synth(props: S3VectorsStackProps = {}) {
  // No bundling here (test/cdk/bundles.test.ts builds the real assets).
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new S3VectorsStack(app, 'Test', { optimize: { entry: maintenanceEntry() }, ...props });
  const template = Template.fromStack(stack);
  return { stack, template, resources: template.toJSON().Resources as Resources };
}

const { stack, template, resources } = synth();
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const logicalId = (s: Stack, construct: { node: { defaultChild?: unknown } }) => s.getLogicalId(construct.node.defaultChild as any);

/** Resolves an Fn::Join of strings and Refs (pseudo parameters as in us-east-1). */
function resolveJoin(value: any, refs: Record<string, string>): string {
  if (typeof value === 'string') return value;
  const pseudo: Record<string, string> = { 'AWS::Region': 'us-east-1', 'AWS::URLSuffix': 'amazonaws.com', 'AWS::AccountId': '123456789012' };
  if (value.Ref) return refs[value.Ref] ?? pseudo[value.Ref] ?? `<${value.Ref}>`;
  if (value['Fn::Join']) return (value['Fn::Join'][1] as any[]).map((p) => resolveJoin(p, refs)).join(value['Fn::Join'][0]);
  throw new Error(`unsupported intrinsic ${JSON.stringify(value)}`);
}

/** Rebuilds /a/{b} from AWS::ApiGateway::Resource parent links. */
function resourcePath(ref: any): string {
  if (ref && ref['Fn::GetAtt']) return ''; // the root resource
  const id = ref.Ref as string;
  const res = resources[id];
  return `${resourcePath(res.Properties.ParentId)}/${res.Properties.PathPart}`;
}

describe('API Gateway', () => {
  const methods = ofType('AWS::ApiGateway::Method');

  test('one method per operation of the model, every one AWS_IAM-authorized', () => {
    expect(methods).toHaveLength(operationNames.length);
    for (const [, method] of methods) expect(method.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  test('every route (method + wire path) is a proxy integration to its operation’s function', () => {
    const routes = new Map<string, string>();
    for (const [, method] of methods) {
      const { HttpMethod, ResourceId, Integration } = method.Properties;
      expect(Integration.Type).toBe('AWS_PROXY');
      expect(Integration.IntegrationHttpMethod).toBe('POST');
      const uriParts = JSON.stringify(Integration.Uri);
      const fnId = /"Fn::GetAtt":\["([A-Za-z0-9]+)","Arn"\]/.exec(uriParts)?.[1];
      routes.set(`${HttpMethod} ${resourcePath(ResourceId)}`, fnId!);
    }
    for (const spec of operationSpecs) {
      expect(routes.get(`${spec.method} ${spec.path}`)).toBe(logicalId(stack, stack.functions[spec.name]));
    }
    expect(routes.get('GET /tags/{resourceArn}')).toBe(logicalId(stack, stack.functions.ListTagsForResource));
    expect(routes.get('POST /tags/{resourceArn}')).toBe(logicalId(stack, stack.functions.TagResource));
    expect(routes.get('DELETE /tags/{resourceArn}')).toBe(logicalId(stack, stack.functions.UntagResource));
    expect(routes.get('POST /PutVectors')).toBe(logicalId(stack, stack.functions.PutVectors));
  });

  test('API Gateway’s own answers (oversize body, failed invoke, timeout) are modeled errors; functions cap their answers at Lambda’s 6 MB', () => {
    const responses = Object.fromEntries(ofType('AWS::ApiGateway::GatewayResponse').map(([, r]) => [r.Properties.ResponseType, r.Properties]));
    expect(responses.REQUEST_TOO_LARGE).toMatchObject({ StatusCode: '413', ResponseParameters: { 'gatewayresponse.header.x-amzn-ErrorType': "'ValidationException'" } });
    expect(JSON.parse(responses.REQUEST_TOO_LARGE.ResponseTemplates['application/json']).message).toMatch(/1024-d: 254, 1536-d: 169, 3072-d: 85, 4096-d: 63/);
    expect(responses.INTEGRATION_FAILURE.ResponseParameters['gatewayresponse.header.x-amzn-ErrorType']).toBe("'InternalServerException'");
    expect(responses.INTEGRATION_TIMEOUT.ResponseParameters['gatewayresponse.header.x-amzn-ErrorType']).toBe("'RequestTimeoutException'");
    // Any other 5xx of API Gateway's own: the same modeled body and type, its own status kept.
    expect(responses.DEFAULT_5XX.ResponseParameters).toEqual(responses.INTEGRATION_FAILURE.ResponseParameters);
    expect(responses.DEFAULT_5XX.ResponseTemplates).toEqual(responses.INTEGRATION_FAILURE.ResponseTemplates);
    expect(responses.DEFAULT_5XX.StatusCode).toBeUndefined();
    for (const spec of operationSpecs) {
      expect(resources[logicalId(stack, stack.functions[spec.name])].Properties.Environment.Variables.S3V_MAX_RESPONSE_BYTES).toBe(String(6 * 1024 * 1024));
    }
  });

  test('each function may be invoked by API Gateway only on its own route', () => {
    const permissions = ofType('AWS::Lambda::Permission').filter(([, p]) => p.Properties.Principal === 'apigateway.amazonaws.com');
    expect(permissions).toHaveLength(operationNames.length);
  });
});

describe('functions', () => {
  const functions = ofType('AWS::Lambda::Function').filter(([, f]) => f.Properties.Runtime?.startsWith('nodejs22'));
  const layers = ofType('AWS::Lambda::LayerVersion');

  test('one Node.js 22 x86_64 function per operation plus optimize, all on the one LanceDB layer', () => {
    expect(Object.keys(stack.functions).sort()).toEqual([...operationNames].sort());
    expect(functions).toHaveLength(operationNames.length + 1);
    expect(layers).toHaveLength(1);
    const [layerId, layer] = layers[0];
    expect(layer.Properties.CompatibleArchitectures).toEqual(['x86_64']);
    for (const [, fn] of functions) {
      expect(fn.Properties.Architectures).toEqual(['x86_64']);
      expect(fn.Properties.Layers).toEqual([{ Ref: layerId }]);
      expect(fn.Properties.Handler).toBe('index.handler');
      expect(fn.Properties.Environment.Variables).toMatchObject({
        S3V_TABLE: { Ref: logicalId(stack, stack.catalogTable) },
        S3V_STORAGE_URI: expect.anything(),
      });
    }
  });

  test('the storage URI is s3+ddb:// on the data bucket with the commit table', () => {
    const fn = resources[logicalId(stack, stack.functions.PutVectors)];
    const uri = JSON.stringify(fn.Properties.Environment.Variables.S3V_STORAGE_URI);
    expect(uri).toContain('s3+ddb://');
    expect(uri).toContain(logicalId(stack, stack.dataBucket));
    expect(uri).toContain(`/vectors?ddbTableName=`);
    expect(uri).toContain(logicalId(stack, stack.commitTable));
  });

  test('request-serving functions time out before API Gateway’s 29 s, with room for a cold start', () => {
    for (const spec of operationSpecs) {
      const timeout = resources[logicalId(stack, stack.functions[spec.name])].Properties.Timeout as number;
      expect(timeout).toBeLessThanOrEqual(API_GATEWAY_TIMEOUT_SECONDS - 3);
    }
  });

  test('queries and writes get more memory than catalog operations', () => {
    const memory = (name: string) => resources[logicalId(stack, stack.functions[name])].Properties.MemorySize as number;
    expect(memory('QueryVectors')).toBeGreaterThan(memory('GetVectorBucket'));
    expect(memory('PutVectors')).toBeGreaterThan(memory('CreateIndex'));
    for (const [, fn] of functions) expect(fn.Properties.Timeout).toBeLessThanOrEqual(900);
  });
});

describe('IAM', () => {
  const policies = [...ofType('AWS::IAM::Policy'), ...ofType('AWS::IAM::ManagedPolicy')];
  const statements = (doc: any): any[] => doc.Statement;
  const asList = (v: unknown) => (Array.isArray(v) ? v : [v]);
  const roles = ofType('AWS::IAM::Role');

  test('no statement allows * actions on * (nor any action on a bare *)', () => {
    const all = [
      ...policies.flatMap(([, p]) => statements(p.Properties.PolicyDocument)),
      ...roles.flatMap(([, r]) => (r.Properties.Policies ?? []).flatMap((p: any) => statements(p.PolicyDocument))),
    ];
    expect(all.length).toBeGreaterThan(0);
    for (const s of all) {
      const actions = asList(s.Action) as string[];
      expect(actions).not.toContain('*');
      // ecr:GetAuthorizationToken (the optimize job pulling its image) exists only account-wide.
      if (s.Effect === 'Allow' && !(actions.length === 1 && actions[0] === 'ecr:GetAuthorizationToken')) expect(asList(s.Resource)).not.toContain('*');
    }
    // No AWS managed policies (AWSLambdaBasicExecutionRole grants logs on *).
    for (const [, role] of roles) expect(role.Properties.ManagedPolicyArns ?? []).toEqual([]);
  });

  /** Every allowed action of a function's role, as "action on <resource logical id>" strings. */
  function grantsOf(name: string): { action: string; resource: string; condition?: any }[] {
    return grantsOfFunction(stack.functions[name]);
  }
  function grantsOfFunction(construct: { node: { defaultChild?: unknown } }): { action: string; resource: string; condition?: any }[] {
    const fn = resources[logicalId(stack, construct)];
    const roleId = fn.Properties.Role['Fn::GetAtt'][0];
    const docs = policies.filter(([, p]) => (p.Properties.Roles ?? []).some((r: any) => r.Ref === roleId)).map(([, p]) => p.Properties.PolicyDocument);
    return docs.flatMap(statements).flatMap((s) =>
      (asList(s.Action) as string[]).flatMap((action) =>
        asList(s.Resource).map((r) => ({ action, resource: JSON.stringify(r), condition: s.Condition })),
      ),
    );
  }
  const catalogId = () => logicalId(stack, stack.catalogTable);
  const bucketId = () => logicalId(stack, stack.dataBucket);

  test.each(operationSpecs.map((s) => [s.name, s] as const))('%s gets only the table and bucket actions it uses', (_name, spec) => {
    const grants = grantsOf(spec.name);
    const onCatalog = grants.filter((g) => g.resource.includes(catalogId()));
    const onBucket = grants.filter((g) => g.resource.includes(bucketId()));
    const writes = ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem'];
    expect(onCatalog.map((g) => g.action)).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
    expect(grants.map((g) => g.action)).not.toContain('dynamodb:Scan');
    if (spec.catalog === 'read') {
      const catalogWrites = onCatalog.filter((g) => writes.includes(g.action));
      expect(catalogWrites.length).toBeGreaterThan(0);
      for (const g of catalogWrites) {
        // Only shared IAM decisions, and cursor items for operations that paginate.
        expect(g.action).toBe('dynamodb:PutItem');
        const keys = spec.issuesCursors ? ['CURSOR#*', 'AUTHZ#*'] : ['AUTHZ#*'];
        expect(g.condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': keys } });
      }
    }
    if (spec.vectors === 'none') expect(onBucket).toEqual([]);
    if (spec.vectors !== 'write') {
      expect(onBucket.map((g) => g.action)).not.toEqual(expect.arrayContaining(['s3:PutObject']));
      expect(grants.filter((g) => g.resource.includes(logicalId(stack, stack.commitTable)) && writes.includes(g.action))).toEqual([]);
    }
    if (spec.vectors === 'write') expect(onBucket.map((g) => g.action)).toEqual(expect.arrayContaining(['s3:GetObject', 's3:PutObject', 's3:DeleteObject']));
    for (const g of onBucket) expect(g.resource).toMatch(/vectors\/\*|ListBucket|Arn"\]}$/);
    // Logs: its own group only.
    expect(grants.filter((g) => g.action.startsWith('logs:')).every((g) => g.resource.includes('Logs'))).toBe(true);
  });

  test('s3:ListBucket on the data bucket without a prefix condition (else S3 answers a missing object 403, not 404)', () => {
    for (const name of [...Object.keys(stack.functions).filter((n) => operationSpecs.find((s) => s.name === n)!.vectors !== 'none')]) {
      const list = grantsOf(name).filter((g) => g.action === 's3:ListBucket');
      expect(list).toHaveLength(1);
      expect(list[0].resource).toBe(JSON.stringify({ 'Fn::GetAtt': [bucketId(), 'Arn'] }));
      expect(list[0].condition).toBeUndefined();
    }
  });

  test('the optimize function may write only its lease item in the catalog', () => {
    const onCatalog = grantsOfFunction(stack.optimizeFunction!).filter((g) => g.resource.includes(catalogId()));
    const writes = onCatalog.filter((g) => !['dynamodb:GetItem', 'dynamodb:Query'].includes(g.action));
    expect(writes.map((g) => g.action).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:PutItem']);
    for (const g of writes) expect(g.condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['LEASE#*'] } });
  });

  test('read-only operations are classified from the model, not a list', () => {
    const readOnly = operationSpecs.filter((s) => s.catalog === 'read').map((s) => s.name);
    expect(readOnly).toEqual(operationNames.filter((n) => /^(Get|List|Query)/.test(n)));
    expect(operationSpecs.find((s) => s.name === 'QueryVectors')).toMatchObject({ vectors: 'read', issuesCursors: true, operationClass: 'query' });
    expect(operationSpecs.find((s) => s.name === 'DeleteIndex')).toMatchObject({ vectors: 'write' });
    expect(operationSpecs.find((s) => s.name === 'CreateIndex')).toMatchObject({ vectors: 'none', catalog: 'write' });
  });
});

describe('storage', () => {
  test('data bucket: public access blocked, encrypted, TLS only, retained by default', () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('catalog table: on demand, PITR, TTL on ttl; commit table keyed base_uri/version', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'base_uri', KeyType: 'HASH' }, { AttributeName: 'version', KeyType: 'RANGE' }],
      AttributeDefinitions: Match.arrayWith([{ AttributeName: 'version', AttributeType: 'N' }]),
      BillingMode: 'PAY_PER_REQUEST',
    });
  });
});

describe('maintenance and outputs', () => {
  test('an EventBridge schedule invokes the optimize function', () => {
    const optimizeId = logicalId(stack, stack.optimizeFunction!);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [optimizeId, 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'events.amazonaws.com', FunctionName: { 'Fn::GetAtt': [optimizeId, 'Arn'] } });
  });

  test('outputs: endpoint URL, data bucket, table', () => {
    const outputs = template.toJSON().Outputs;
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['Endpoint', 'DataBucketName', 'CatalogTableName']));
    expect(JSON.stringify(outputs.Endpoint.Value)).toContain('execute-api');
  });

  test('the Endpoint has no trailing slash: the SDK then sends /v1/ListVectorBuckets, not /v1//ListVectorBuckets', async () => {
    const endpoint = resolveJoin(template.toJSON().Outputs.Endpoint.Value, { [logicalId(stack, stack.api)]: 'a1b2c3d4e5' });
    expect(endpoint).toBe('https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1');
    const paths: string[] = [];
    const client = new S3VectorsClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      maxAttempts: 1,
      requestHandler: { handle: async (request: { path: string }) => (paths.push(request.path), Promise.reject(new Error('captured'))) } as never,
    });
    await expect(client.send(new ListVectorBucketsCommand({}))).rejects.toThrow('captured');
    expect(paths).toEqual(['/v1/ListVectorBuckets']);
  });

  test('Lambda does not retry a failed optimize run, and no reserved concurrency is needed', () => {
    const optimizeId = logicalId(stack, stack.optimizeFunction!);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: optimizeId },
      MaximumRetryAttempts: 0,
      Qualifier: '$LATEST',
    });
    for (const [, fn] of ofType('AWS::Lambda::Function')) expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  test('optimize: memory, /tmp and build speed sized for the target index; a target too big for one run warns', () => {
    const fn = resources[logicalId(stack, stack.optimizeFunction!)].Properties;
    expect(fn.MemorySize).toBe(3008);
    expect(fn.Timeout).toBe(900);
    // Default target 1M × 1,024-d: about 6 GB of /tmp for Lance's build files (Lambda's default is 512 MB).
    expect(fn.EphemeralStorage.Size).toBeGreaterThanOrEqual(6000);
    expect(fn.Environment.Variables.S3V_MAINT_BUILD_FLOATS_PER_SECOND).toBe(String(stack.optimizeSizing!.buildFloatsPerSecond));
    expect(stack.optimizeSizing!.fits).toBe(true);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('optimize is sized for'))).toHaveLength(0);

    const big = synth({ optimize: { entry: maintenanceEntry(), sizedFor: { vectors: 10_000_000, dimension: 1024 }, memorySize: 10_240 } });
    const bigFn = big.resources[logicalId(big.stack, big.stack.optimizeFunction!)].Properties;
    expect(bigFn.MemorySize).toBe(10_240);
    expect(bigFn.EphemeralStorage.Size).toBe(10_240);
    expect(Number(bigFn.Environment.Variables.S3V_MAINT_BUILD_FLOATS_PER_SECOND)).toBeGreaterThan(Number(fn.Environment.Variables.S3V_MAINT_BUILD_FLOATS_PER_SECOND));
    expect(big.stack.optimizeSizing!.fits).toBe(false);
    expect(Annotations.fromStack(big.stack).findWarning('*', Match.stringLikeRegexp('optimize is sized for 10000000 × 1024-d'))).toHaveLength(1);
  });
});

describe('props', () => {
  test('architecture, limits, sizing, schedule, removal policy, optimize: false', () => {
    const custom = synth({
      architecture: 'arm64',
      limits: { maxTopK: 100, maxVectorsPerPut: 50 },
      sizing: { query: { memorySize: 4096 } },
      removalPolicy: RemovalPolicy.DESTROY,
      optimize: { entry: maintenanceEntry(), schedule: events.Schedule.cron({ minute: '0', hour: '3' }) },
    });
    const fns = Object.values(custom.resources).filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Runtime?.startsWith('nodejs22'));
    for (const fn of fns) expect(fn.Properties.Architectures).toEqual(['arm64']);
    const query = custom.resources[logicalId(custom.stack, custom.stack.functions.QueryVectors)];
    expect(query.Properties.MemorySize).toBe(4096);
    expect(query.Properties.Environment.Variables).toMatchObject({ S3V_MAX_TOP_K: '100', S3V_MAX_VECTORS_PER_PUT: '50' });
    custom.template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    custom.template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    custom.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 3 * * ? *)' });

    const none = synth({ optimize: false });
    none.template.resourceCountIs('AWS::Events::Rule', 0);
    expect(none.stack.optimizeFunction).toBeUndefined();
    expect(() => synth({ limits: { maxTopK: 0 } })).toThrow(/positive integer/);
  });
});

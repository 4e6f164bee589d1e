// Template assertions on the optimize job (lib/maintenance-job.ts): the Fargate task and its image
// asset (staged by synth, never built: no Docker needed), its sizing, the least-privilege IAM of
// the task and of the function that starts it, and the network (no NAT gateway).
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { JOB_DOCKERFILE } from '../../lib/maintenance-job';
import { S3VectorsStack, type S3VectorsStackProps } from '../../lib/s3vectors-stack';

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

const outdir = mkdtempSync(join(tmpdir(), 'job-synth-'));
// A `docker` on PATH that records any call: synth must make none.
const fakeBin = mkdtempSync(join(tmpdir(), 'fake-docker-'));
const dockerCalls = join(fakeBin, 'calls.log');
writeFileSync(join(fakeBin, 'docker'), `#!/bin/sh\necho "docker $*" >> ${dockerCalls}\nexit 1\n`);
chmodSync(join(fakeBin, 'docker'), 0o755);
afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
  rmSync(fakeBin, { recursive: true, force: true });
});

function synth(props: S3VectorsStackProps = {}, dir?: string) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, ...(dir && { outdir: dir }) });
  const stack = new S3VectorsStack(app, 'Test', props);
  const template = Template.fromStack(stack);
  return { stack, template, resources: template.toJSON().Resources as Resources };
}

const path = process.env.PATH;
process.env.PATH = `${fakeBin}:${path}`;
const { stack, template, resources } = synth({}, outdir);
process.env.PATH = path;

const ofType = (type: string, from = resources) => Object.entries(from).filter(([, r]) => r.Type === type);
const idOf = (construct: { node: { defaultChild?: unknown } } | { node: unknown }) => stack.getLogicalId((construct as any).node.defaultChild ?? construct);
const statementsOfRole = (roleId: string, from = resources) =>
  ofType('AWS::IAM::Policy', from)
    .filter(([, p]) => (p.Properties.Roles ?? []).some((r: any) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as any[]);
const asList = (v: unknown) => (Array.isArray(v) ? v : [v]);

describe('the optimize job’s task', () => {
  const [, task] = ofType('AWS::ECS::TaskDefinition')[0];

  test('one Fargate task, x86_64, sized from the job target: 4 vCPU, memory and up to 200 GiB of disk for Lance’s build files', () => {
    expect(ofType('AWS::ECS::TaskDefinition')).toHaveLength(1);
    expect(task.Properties).toMatchObject({ RequiresCompatibilities: ['FARGATE'], NetworkMode: 'awsvpc', RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' } });
    const sizing = stack.optimizeJob!;
    expect(task.Properties.Cpu).toBe('4096');
    // Default target 10M × 1,024-d: ~57 GiB of build files plus the image.
    expect(task.Properties.EphemeralStorage.SizeInGiB).toBeGreaterThanOrEqual(60);
    expect(task.Properties.EphemeralStorage.SizeInGiB).toBeLessThanOrEqual(200);
    expect(Number(task.Properties.Memory)).toBeGreaterThanOrEqual(16_384);
    expect(sizing).toBeDefined();
  });

  test('its container: the maintenance image from the repository’s asset, the optimize function’s environment, logs to its own group', () => {
    const [container] = task.Properties.ContainerDefinitions;
    expect(container.Name).toBe('maintenance');
    expect(JSON.stringify(container.Image)).toMatch(/container-assets/);
    const env = Object.fromEntries(container.Environment.map((e: any) => [e.Name, e.Value]));
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['S3V_TABLE', 'S3V_STORAGE_URI', 'S3V_REGION']));
    expect(JSON.stringify(env.S3V_STORAGE_URI)).toMatch(/s3\+ddb:\/\//);
    expect(container.LogConfiguration.LogDriver).toBe('awslogs');
  });

  test('synth stages the image’s build context without Docker: only what its Dockerfile copies', () => {
    expect(existsSync(dockerCalls) ? readFileSync(dockerCalls, 'utf8') : '').toBe('');
    const assets = JSON.parse(readFileSync(join(outdir, 'Test.assets.json'), 'utf8'));
    const images = Object.values(assets.dockerImages ?? {}) as any[];
    expect(images).toHaveLength(1);
    expect(images[0].source).toMatchObject({ dockerFile: JOB_DOCKERFILE, platform: 'linux/amd64' });
    const staged = join(outdir, images[0].source.directory);
    expect(readdirSync(staged).sort()).toEqual(['.dockerignore', 'lambdas', 'lib', 'package-lock.json', 'package.json', 'tsconfig.json']);
    expect(readdirSync(join(staged, 'lib'))).toEqual(['maintenance-job.Dockerfile']);
    expect(existsSync(join(staged, 'lambdas', 'maintenance', 'job.ts'))).toBe(true);
    // What the Dockerfile copies is what is staged.
    const dockerfile = readFileSync(join(staged, JOB_DOCKERFILE), 'utf8');
    for (const [, from] of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) for (const f of from.split(/\s+/)) expect(existsSync(join(staged, f))).toBe(true);
  });

  test('the task role: the catalog (reads, lease items only), the data bucket’s vectors/ and the commit table; nothing else', () => {
    const roleId = task.Properties.TaskRoleArn['Fn::GetAtt'][0];
    const grants = statementsOfRole(roleId).flatMap((s) => asList(s.Action).map((a: string) => ({ action: a, resource: JSON.stringify(s.Resource), condition: s.Condition })));
    const catalog = idOf(stack.catalogTable);
    const bucket = idOf(stack.dataBucket);
    const commit = idOf(stack.commitTable);
    for (const g of grants) expect(g.resource).toMatch(new RegExp(`${catalog}|${bucket}|${commit}`));
    const onCatalog = grants.filter((g) => g.resource.includes(catalog));
    expect(onCatalog.filter((g) => !['dynamodb:GetItem', 'dynamodb:Query'].includes(g.action)).map((g) => [g.action, g.condition])).toEqual([
      ['dynamodb:PutItem', { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['LEASE#*'] } }],
      ['dynamodb:DeleteItem', { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['LEASE#*'] } }],
    ]);
    for (const g of grants.filter((x) => x.resource.includes(bucket) && x.action !== 's3:ListBucket')) expect(g.resource).toMatch(/\/vectors\/\*/);
    expect(grants.map((g) => g.action)).not.toContain('dynamodb:Scan');
    expect(grants.map((g) => g.action)).not.toContain('iam:SimulatePrincipalPolicy');
  });

  test('the execution role: pulls only the asset repository, logs only to the job’s group (GetAuthorizationToken is account-wide by design)', () => {
    const roleId = task.Properties.ExecutionRoleArn['Fn::GetAtt'][0];
    for (const s of statementsOfRole(roleId)) {
      const actions = asList(s.Action);
      if (s.Resource === '*') expect(actions).toEqual(['ecr:GetAuthorizationToken']);
      else if (actions.some((a: string) => a.startsWith('ecr:'))) expect(JSON.stringify(s.Resource)).toMatch(/repository\/.*container-assets/);
      else expect(JSON.stringify(s.Resource)).toContain(idOf(stack.optimizeJob!.node.findChild('Logs') as any));
    }
  });
});

describe('the optimize function starts it', () => {
  const fnId = () => idOf(stack.optimizeFunction!);
  const fnStatements = () => statementsOfRole(resources[fnId()].Properties.Role['Fn::GetAtt'][0]);

  test('ecs:RunTask on exactly this task definition, in this cluster', () => {
    const run = fnStatements().filter((s) => asList(s.Action).includes('ecs:RunTask'));
    expect(run).toHaveLength(1);
    expect(asList(run[0].Action)).toEqual(['ecs:RunTask']);
    expect(run[0].Resource).toEqual({ Ref: idOf(stack.optimizeJob!.taskDefinition) });
    expect(run[0].Condition).toEqual({ ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [stack.getLogicalId(stack.optimizeJob!.cluster), 'Arn'] } } });
    expect(fnStatements().flatMap((s) => asList(s.Action)).filter((a: string) => a.startsWith('ecs:'))).toEqual(['ecs:RunTask']);
  });

  test('iam:PassRole on the task’s two roles only, to ECS tasks only', () => {
    const pass = fnStatements().filter((s) => asList(s.Action).includes('iam:PassRole'));
    expect(pass).toHaveLength(1);
    const [, task] = ofType('AWS::ECS::TaskDefinition')[0];
    expect(pass[0].Resource).toEqual([task.Properties.TaskRoleArn, task.Properties.ExecutionRoleArn]);
    expect(pass[0].Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
  });

  test('its environment says which cluster, task, container, subnets and security group', () => {
    const vars = resources[fnId()].Properties.Environment.Variables;
    expect(vars.S3V_JOB_CLUSTER).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(stack.optimizeJob!.cluster), 'Arn'] });
    expect(vars.S3V_JOB_TASK_DEFINITION).toEqual({ Ref: idOf(stack.optimizeJob!.taskDefinition) });
    expect(vars.S3V_JOB_CONTAINER).toBe('maintenance');
    expect(vars.S3V_JOB_SUBNETS).toEqual({ 'Fn::Join': [',', stack.optimizeJob!.subnets.map((s) => ({ Ref: stack.getLogicalId(s) }))] });
    expect(vars.S3V_JOB_SECURITY_GROUP).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(stack.optimizeJob!.securityGroup), 'GroupId'] });
  });
});

describe('network', () => {
  test('no NAT gateway and no Elastic IP; two public subnets in two AZs chosen at deploy time (no lookup at synth)', () => {
    expect(ofType('AWS::EC2::NatGateway')).toHaveLength(0);
    expect(ofType('AWS::EC2::EIP')).toHaveLength(0);
    const subnets = ofType('AWS::EC2::Subnet');
    expect(subnets.map(([, s]) => s.Properties.AvailabilityZone)).toEqual([0, 1].map((i) => ({ 'Fn::Select': [i, { 'Fn::GetAZs': '' }] })));
    for (const [, s] of subnets) expect(s.Properties.MapPublicIpOnLaunch).toBe(false);
    template.hasResourceProperties('AWS::EC2::Route', { DestinationCidrBlock: '0.0.0.0/0', GatewayId: Match.anyValue() });
    expect(ofType('AWS::EC2::InternetGateway')).toHaveLength(1);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('availability zones'))).toHaveLength(0);
  });

  test('S3 and DynamoDB through free gateway endpoints; no interface endpoints', () => {
    const endpoints = ofType('AWS::EC2::VPCEndpoint').map(([, e]) => e.Properties);
    expect(endpoints.map((e) => e.VpcEndpointType)).toEqual(['Gateway', 'Gateway']);
    expect(endpoints.map((e) => JSON.stringify(e.ServiceName))).toEqual([expect.stringMatching(/\.s3"/), expect.stringMatching(/\.dynamodb"/)]);
  });

  test('the task’s security group: nothing inbound, HTTPS out only', () => {
    const [[, sg]] = ofType('AWS::EC2::SecurityGroup');
    expect(sg.Properties.SecurityGroupIngress).toBeUndefined();
    expect(sg.Properties.SecurityGroupEgress).toEqual([expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0' })]);
    expect(ofType('AWS::EC2::SecurityGroupIngress')).toHaveLength(0);
  });
});

describe('options', () => {
  test('job: false leaves out the task, the network and the function’s RunTask grant', () => {
    const none = synth({ optimize: { job: false } });
    for (const type of ['AWS::ECS::TaskDefinition', 'AWS::ECS::Cluster', 'AWS::EC2::VPC', 'AWS::EC2::Subnet']) expect(ofType(type, none.resources)).toHaveLength(0);
    const fn = none.resources[none.stack.getLogicalId(none.stack.optimizeFunction!.node.defaultChild as any)];
    expect(Object.keys(fn.Properties.Environment.Variables).filter((k) => k.startsWith('S3V_JOB_'))).toEqual([]);
    expect(JSON.stringify(none.resources)).not.toContain('ecs:RunTask');
  });

  test('a bigger target: more vCPU, memory and disk; one past 200 GiB of build files warns', () => {
    const big = synth({ optimize: { job: { sizedFor: { vectors: 25_000_000, dimension: 1024 } } } });
    const [, task] = ofType('AWS::ECS::TaskDefinition', big.resources)[0];
    expect(Number(task.Properties.Cpu)).toBeGreaterThanOrEqual(8192);
    expect(task.Properties.EphemeralStorage.SizeInGiB).toBeGreaterThan(140);
    expect(Annotations.fromStack(big.stack).findWarning('*', Match.stringLikeRegexp('optimize job is sized for'))).toHaveLength(0);
    const huge = synth({ optimize: { job: { sizedFor: { vectors: 50_000_000, dimension: 1024 } } } });
    expect(ofType('AWS::ECS::TaskDefinition', huge.resources)[0][1].Properties.EphemeralStorage.SizeInGiB).toBe(200);
    expect(Annotations.fromStack(huge.stack).findWarning('*', Match.stringLikeRegexp('optimize job is sized for 50000000 × 1024-d'))).toHaveLength(1);
    expect(() => synth({ optimize: { job: { cpu: 4096, memoryMiB: 4096 } } })).toThrow(/memoryMiB for cpu 4096/);
  });
});

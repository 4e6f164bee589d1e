// The optimize job: an ECS Fargate task that runs the maintenance code for one index without
// Lambda's 15-minute limit and with up to 200 GiB of disk (lambdas/maintenance/job.ts), started by
// the optimize Lambda for a build no invocation can finish (lambdas/maintenance/handler.ts).
//
// Network: a VPC of two public subnets and no NAT gateway. The task gets a public IP (RunTask's
// assignPublicIp) to pull its image from ECR and reach the ECS, CloudWatch Logs and STS endpoints;
// its security group admits nothing inbound. S3 and DynamoDB go through the VPC's gateway endpoints
// (free). The alternative, isolated subnets, needs interface endpoints for ECR (api, dkr), Logs
// and STS: about $7 per endpoint per AZ per month, run or not, where a public IPv4 address costs
// $0.005 an hour only while a task runs.
//
// Built from CloudFormation's own resources (not ec2.Vpc), so `cdk synth` never looks up the
// account's availability zones: the subnets take the region's first two AZs at deploy time.
import { Fn, IgnoreMode, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { JOB_LAUNCH_ENV } from '../lambdas/maintenance/job-launcher';
import { grantMaintenance, type DataResources } from './grants';
import type { JobSizing } from './optimize-sizing';

export const JOB_DOCKERFILE = 'lib/maintenance-job.Dockerfile';
export const JOB_CONTAINER = 'maintenance';

/**
 * The image's build context: only what its Dockerfile copies (Docker ignore syntax, after the
 * repository's .dockerignore). Everything else stays out of the staged asset and of its hash.
 */
export const JOB_IMAGE_EXCLUDE = ['*', '!package.json', '!package-lock.json', '!tsconfig.json', '!lambdas', `!${JOB_DOCKERFILE}`];

export interface MaintenanceJobProps {
  /** The repository root (the image's build context). */
  directory: string;
  data: DataResources;
  /** The maintenance code's environment (the optimize function's). */
  environment: Record<string, string>;
  sizing: JobSizing;
  logRetention?: logs.RetentionDays;
}

export class MaintenanceJob extends Construct {
  readonly cluster: ecs.CfnCluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly securityGroup: ec2.CfnSecurityGroup;
  readonly subnets: ec2.CfnSubnet[];
  readonly vpc: ec2.CfnVPC;

  constructor(scope: Construct, id: string, props: MaintenanceJobProps) {
    super(scope, id);
    const region = Stack.of(this).region;

    // --- Network ---------------------------------------------------------------------------------
    this.vpc = new ec2.CfnVPC(this, 'Vpc', { cidrBlock: '10.64.0.0/16', enableDnsSupport: true, enableDnsHostnames: true });
    const gateway = new ec2.CfnInternetGateway(this, 'InternetGateway');
    const attachment = new ec2.CfnVPCGatewayAttachment(this, 'GatewayAttachment', { vpcId: this.vpc.ref, internetGatewayId: gateway.ref });
    const routes = new ec2.CfnRouteTable(this, 'Routes', { vpcId: this.vpc.ref });
    const toInternet = new ec2.CfnRoute(this, 'DefaultRoute', { routeTableId: routes.ref, destinationCidrBlock: '0.0.0.0/0', gatewayId: gateway.ref });
    toInternet.node.addDependency(attachment);
    this.subnets = [0, 1].map((i) => {
      const subnet = new ec2.CfnSubnet(this, `PublicSubnet${i + 1}`, {
        vpcId: this.vpc.ref,
        cidrBlock: `10.64.${i * 16}.0/20`,
        availabilityZone: Fn.select(i, Fn.getAzs()),
        mapPublicIpOnLaunch: false,
      });
      new ec2.CfnSubnetRouteTableAssociation(this, `PublicSubnet${i + 1}Routes`, { subnetId: subnet.ref, routeTableId: routes.ref });
      return subnet;
    });
    for (const service of ['s3', 'dynamodb']) {
      new ec2.CfnVPCEndpoint(this, `${service === 's3' ? 'S3' : 'DynamoDb'}Endpoint`, {
        vpcId: this.vpc.ref,
        serviceName: `com.amazonaws.${region}.${service}`,
        vpcEndpointType: 'Gateway',
        routeTableIds: [routes.ref],
      });
    }
    this.securityGroup = new ec2.CfnSecurityGroup(this, 'TaskSecurityGroup', {
      vpcId: this.vpc.ref,
      groupDescription: 'open-s3vectors optimize job: no inbound traffic; HTTPS out to AWS APIs',
      securityGroupEgress: [{ ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIp: '0.0.0.0/0', description: 'AWS APIs (ECR, ECS, Logs, STS; S3 and DynamoDB via gateway endpoints)' }],
    });

    // --- Cluster and task -----------------------------------------------------------------------
    this.cluster = new ecs.CfnCluster(this, 'Cluster', { clusterSettings: [{ name: 'containerInsights', value: 'disabled' }] });
    const { sizing } = props;
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: sizing.cpu,
      memoryLimitMiB: sizing.memoryMiB,
      ephemeralStorageGiB: sizing.ephemeralStorageGiB,
      // The image carries LanceDB's linux-x64 build whatever the functions' architecture.
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    this.taskDefinition.addContainer(JOB_CONTAINER, {
      // A Docker image asset: synth stages the build context; `cdk deploy` builds and pushes it.
      image: ecs.ContainerImage.fromAsset(props.directory, {
        file: JOB_DOCKERFILE,
        ignoreMode: IgnoreMode.DOCKER,
        exclude: JOB_IMAGE_EXCLUDE,
        platform: Platform.LINUX_AMD64,
      }),
      essential: true,
      environment: props.environment,
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'job' }),
    });
    grantMaintenance({ addToRolePolicy: (s) => this.taskDefinition.addToTaskRolePolicy(s) }, props.data);
  }

  /** The environment that tells the optimize function how to start this job (lambdas/maintenance/job-launcher.ts). */
  launchEnvironment(): Record<string, string> {
    return {
      [JOB_LAUNCH_ENV.cluster]: this.cluster.attrArn,
      [JOB_LAUNCH_ENV.taskDefinition]: this.taskDefinition.taskDefinitionArn,
      [JOB_LAUNCH_ENV.container]: JOB_CONTAINER,
      [JOB_LAUNCH_ENV.subnets]: Fn.join(',', this.subnets.map((s) => s.ref)),
      [JOB_LAUNCH_ENV.securityGroup]: this.securityGroup.attrGroupId,
    };
  }

  /** `fn` may run this task definition in this cluster and pass it its two roles, nothing more. */
  grantStart(fn: lambda.IFunction): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ecs:RunTask'],
        resources: [this.taskDefinition.taskDefinitionArn],
        conditions: { ArnEquals: { 'ecs:cluster': this.cluster.attrArn } },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.taskDefinition.taskRole.roleArn, this.taskDefinition.obtainExecutionRole().roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );
  }
}

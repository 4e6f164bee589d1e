// The AWS deployment: API Gateway (REST, AWS_IAM on every method) → one Lambda per operation →
// DynamoDB catalog + LanceDB tables on S3, with Lance's DynamoDB commit store (s3+ddb://) so that
// concurrent writers never lose a commit; plus a scheduled optimize Lambda.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Annotations, Aws, CfnOutput, Duration, RemovalPolicy, Size, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { IAM_SIMULATOR_ACTIONS } from '../lambdas/adapters/iam-simulator';
import { LAMBDA_REQUEST_LIMIT } from '../lambdas/runtime/payload-limits';
import { addGatewayResponses } from './gateway-responses';
import { grantCatalog, grantMaintenance, grantVectors, VECTOR_PREFIX } from './grants';
import { LIMIT_ENV, type Limits } from '../lambdas/core/config';
import { LAYER_JS_PACKAGES, LanceDbLayer, type LambdaArchitecture } from './lancedb-layer';
import { MaintenanceJob } from './maintenance-job';
import { jobSizing, optimizeSizing, type OptimizeSizing, type OptimizeTarget } from './optimize-sizing';
import { operationSpecs, type OperationClass, type OperationSpec } from './operations';

const PROJECT_ROOT = resolve(__dirname, '..');
export const DEFAULT_MAINTENANCE_ENTRY = join(PROJECT_ROOT, 'lambdas', 'maintenance', 'handler.ts');
export { VECTOR_PREFIX };

export interface FunctionSizing {
  memorySize: number;
  timeout: Duration;
}

/** API Gateway's integration timeout: past it the caller gets a bare 504, whatever the function does. */
export const API_GATEWAY_TIMEOUT_SECONDS = 29;

/**
 * Function timeouts stay below API Gateway's 29 s, leaving room for a cold start's init (the
 * LanceDB layer), and the handler answers RequestTimeoutException (408, retryable) shortly before
 * its own timeout (lambdas/runtime/deadline.ts), so a slow operation ends with a modeled error.
 */
export const DEFAULT_SIZING: Record<OperationClass, FunctionSizing> = {
  query: { memorySize: 2048, timeout: Duration.seconds(25) },
  write: { memorySize: 2048, timeout: Duration.seconds(25) },
  read: { memorySize: 1024, timeout: Duration.seconds(25) },
  control: { memorySize: 512, timeout: Duration.seconds(15) },
};

export interface OptimizeOptions {
  /** When the optimize Lambda runs. Default: every hour. */
  schedule?: events.Schedule;
  /** Extra environment for the maintenance code (its thresholds, e.g. S3V_OPTIMIZE_*). */
  environment?: Record<string, string>;
  /** Default 3,008 MB (what every account may use); more memory means more vCPUs, a faster build. */
  memorySize?: number;
  /** /tmp for Lance's index builds. Default: sized from `sizedFor`. */
  ephemeralStorageMiB?: number;
  /** The largest index one run should build an ANN index for. Default 1M vectors × 1,024 dimensions. */
  sizedFor?: OptimizeTarget;
  /** Default: 15 minutes. */
  timeout?: Duration;
  /** The maintenance module (exports `handler`). Default: lambdas/maintenance/handler.ts. */
  entry?: string;
  /**
   * The Fargate job that builds what one run cannot (lib/maintenance-job.ts); false leaves it out
   * (such builds then stay deferred, and indexes that large are searched exactly).
   */
  job?: MaintenanceJobOptions | false;
}

export interface MaintenanceJobOptions {
  /** The largest index the job should build. Default 10M vectors × 1,024 dimensions. */
  sizedFor?: OptimizeTarget;
  /** Fargate vCPU units (4096 = 4 vCPU). Default: at least 4 vCPU, more if the memory needs it. */
  cpu?: number;
  memoryMiB?: number;
  /** 21–200 GiB. Default: sized from `sizedFor`. */
  ephemeralStorageGiB?: number;
}

export interface S3VectorsStackProps extends StackProps {
  /** Lambda architecture. Default x86_64; arm64 needs LanceDB ≤ 0.31 (no newer linux-arm64 build). */
  architecture?: LambdaArchitecture;
  /** Service limits; unset ones keep Amazon S3 Vectors' documented values. */
  limits?: Partial<Limits>;
  /** Pagination cursor lifetime in seconds (DynamoDB TTL removes them). Default 600. */
  cursorTtlSeconds?: number;
  /** Memory and timeout per operation class. */
  sizing?: Partial<Record<OperationClass, Partial<FunctionSizing>>>;
  /** What happens to the data bucket and the tables when the stack is deleted. Default RETAIN. */
  removalPolicy?: RemovalPolicy;
  /** The scheduled optimize Lambda; false leaves it out. */
  optimize?: OptimizeOptions | false;
  /** API Gateway stage. Default 'v1'. */
  stageName?: string;
  logRetention?: logs.RetentionDays;
  /** Extra environment for every function (e.g. S3V_LOG_LEVEL). */
  environment?: Record<string, string>;
}

export function limitsEnvironment(limits: Partial<Limits> = {}): Record<string, string> {
  const names = LIMIT_ENV;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(limits) as [keyof Limits, number | undefined][]) {
    if (value === undefined) continue;
    if (!names[key]) throw new Error(`unknown limit ${key}`);
    if (!Number.isInteger(value) || value < 1) throw new Error(`limit ${key} must be a positive integer, got ${value}`);
    env[names[key]] = String(value);
  }
  return env;
}

export class S3VectorsStack extends Stack {
  readonly api: apigateway.RestApi;
  readonly dataBucket: s3.Bucket;
  readonly catalogTable: dynamodb.Table;
  readonly commitTable: dynamodb.Table;
  readonly layer: lambda.LayerVersion;
  readonly functions: Record<string, nodejs.NodejsFunction> = {};
  readonly optimizeFunction?: nodejs.NodejsFunction;
  readonly optimizeSizing?: OptimizeSizing;
  readonly optimizeJob?: MaintenanceJob;
  readonly architecture: LambdaArchitecture;
  /** The S3 Vectors endpoint URL, without a trailing slash. */
  readonly endpoint: string;

  constructor(scope: Construct, id: string, props: S3VectorsStackProps = {}) {
    super(scope, id, props);
    this.architecture = props.architecture ?? 'x86_64';
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const destroy = removalPolicy === RemovalPolicy.DESTROY;

    // --- Storage -------------------------------------------------------------------------------
    this.dataBucket = new s3.Bucket(this, 'DataBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy,
      autoDeleteObjects: destroy,
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
    this.catalogTable = new dynamodb.Table(this, 'CatalogTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'ttl',
      removalPolicy,
    });
    // Lance's external manifest store for s3+ddb:// (one item per table version, put-if-absent).
    this.commitTable = new dynamodb.Table(this, 'CommitTable', {
      partitionKey: { name: 'base_uri', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'version', type: dynamodb.AttributeType.NUMBER },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });

    this.layer = new LanceDbLayer(this, 'LanceDb', { architecture: this.architecture }).layer;

    const environment: Record<string, string> = {
      S3V_TABLE: this.catalogTable.tableName,
      S3V_STORAGE_URI: `s3+ddb://${this.dataBucket.bucketName}/${VECTOR_PREFIX}?ddbTableName=${this.commitTable.tableName}`,
      S3V_STORAGE_OPTIONS: this.toJsonString({ aws_region: this.region }),
      S3V_REGION: this.region,
      S3V_ACCOUNT_ID: this.account,
      // Answers over Lambda's 6 MB become a modeled error saying what fits (lambdas/runtime/payload-limits.ts).
      S3V_MAX_RESPONSE_BYTES: String(LAMBDA_REQUEST_LIMIT),
      ...(props.cursorTtlSeconds ? { S3V_CURSOR_TTL_SECONDS: String(props.cursorTtlSeconds) } : {}),
      ...limitsEnvironment(props.limits),
      ...props.environment,
    };

    // --- One function per operation ----------------------------------------------------------------
    for (const spec of operationSpecs) {
      const sizing = { ...DEFAULT_SIZING[spec.operationClass], ...props.sizing?.[spec.operationClass] };
      const fn = this.lanceFunction(`${spec.name}Function`, {
        entry: join(PROJECT_ROOT, 'lambdas', 'operations', `${spec.kebab}.ts`),
        description: `open-s3vectors ${spec.name} (${spec.method} ${spec.path})`,
        environment,
        logRetention: props.logRetention,
        ...sizing,
      });
      this.grantOperation(fn, spec);
      this.functions[spec.name] = fn;
    }

    // --- API ------------------------------------------------------------------------------------
    const stageName = props.stageName ?? 'v1';
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: `${this.stackName}-s3vectors`,
      description: 'open-s3vectors: the Amazon S3 Vectors API on LanceDB',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      defaultMethodOptions: { authorizationType: apigateway.AuthorizationType.IAM },
      deployOptions: { stageName, metricsEnabled: true, tracingEnabled: false },
      cloudWatchRole: false,
    });
    for (const spec of operationSpecs) {
      const resource = this.api.root.resourceForPath(spec.path);
      resource.addMethod(spec.method, new apigateway.LambdaIntegration(this.functions[spec.name], { proxy: true, allowTestInvoke: false }), {
        authorizationType: apigateway.AuthorizationType.IAM,
        operationName: spec.name,
      });
    }

    addGatewayResponses(this.api);

    // Policies to attach to callers: execute-api:Invoke on exactly the API's routes.
    const invokeArns = (specs: OperationSpec[]) => specs.map((s) => this.api.arnForExecuteApi(s.method, s.path.replace(/\{[^}]+\}/g, '*'), stageName));
    const fullAccess = new iam.ManagedPolicy(this, 'InvokeFullAccessPolicy', {
      description: 'Call every operation of this open-s3vectors endpoint',
      statements: [new iam.PolicyStatement({ actions: ['execute-api:Invoke'], resources: invokeArns(operationSpecs) })],
    });
    const readOnly = new iam.ManagedPolicy(this, 'InvokeReadOnlyPolicy', {
      description: 'Call the read-only operations (Get*, List*, Query*) of this open-s3vectors endpoint',
      statements: [
        new iam.PolicyStatement({ actions: ['execute-api:Invoke'], resources: invokeArns(operationSpecs.filter((s) => s.catalog === 'read')) }),
      ],
    });

    // --- Maintenance ------------------------------------------------------------------------------
    if (props.optimize !== false) {
      const options = props.optimize ?? {};
      const entry = options.entry ?? DEFAULT_MAINTENANCE_ENTRY;
      if (!existsSync(entry)) {
        throw new Error(`the maintenance handler ${entry} does not exist; pass optimize: false to deploy without the scheduled optimize`);
      }
      const timeout = options.timeout ?? Duration.minutes(15);
      const sizing = optimizeSizing({ target: options.sizedFor, memorySize: options.memorySize, timeoutSeconds: timeout.toSeconds(), ephemeralStorageMiB: options.ephemeralStorageMiB });
      if (!sizing.fits) {
        Annotations.of(this).addWarning(
          `optimize is sized for ${sizing.target.vectors} × ${sizing.target.dimension}-d, but one run can index about ${sizing.maxFloatsPerRun} floats: ` +
            'raise optimize.memorySize / ephemeralStorageMiB, or larger indexes keep being searched exactly (see README, Deploying to AWS)',
        );
      }
      const fn = this.lanceFunction('OptimizeFunction', {
        entry,
        description: 'open-s3vectors scheduled optimize (compaction, index build, cleanup)',
        environment: { ...environment, S3V_MAINT_BUILD_FLOATS_PER_SECOND: String(sizing.buildFloatsPerSecond), ...options.environment },
        memorySize: sizing.memorySize,
        ephemeralStorageSize: Size.mebibytes(sizing.ephemeralStorageMiB),
        timeout,
        logRetention: props.logRetention,
      });
      // Holds the run's lease (lambdas/adapters/maintenance-lease.ts) so two overlapping runs never optimize at once.
      grantMaintenance(fn, this);
      if (options.job !== false) {
        const job = options.job ?? {};
        const jobSize = jobSizing({ target: job.sizedFor, cpu: job.cpu, memoryMiB: job.memoryMiB, ephemeralStorageGiB: job.ephemeralStorageGiB });
        if (!jobSize.fits) {
          Annotations.of(this).addWarning(
            `the optimize job is sized for ${jobSize.target.vectors} × ${jobSize.target.dimension}-d, but ${jobSize.memoryMiB} MiB / ${jobSize.ephemeralStorageGiB} GiB may not hold its build: raise optimize.job.memoryMiB / ephemeralStorageGiB`,
          );
        }
        const optimizeJob = new MaintenanceJob(this, 'OptimizeJob', { directory: PROJECT_ROOT, data: this, environment: { ...environment, ...options.environment }, sizing: jobSize, logRetention: props.logRetention });
        for (const [name, value] of Object.entries(optimizeJob.launchEnvironment())) fn.addEnvironment(name, value);
        optimizeJob.grantStart(fn);
        this.optimizeJob = optimizeJob;
      }
      // A failed or timed-out run is not retried by Lambda (the next scheduled run picks up), and
      // no reserved concurrency is asked for (new accounts often cannot grant any): the lease
      // serializes overlapping runs instead.
      fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.hours(1) });
      new events.Rule(this, 'OptimizeSchedule', {
        description: 'Runs the open-s3vectors optimize Lambda',
        schedule: options.schedule ?? events.Schedule.rate(Duration.hours(1)),
        targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
      });
      this.optimizeSizing = sizing;
      this.optimizeFunction = fn;
    }

    // api.url ends with '/', and the SDKs append '/Operation' to the endpoint: '//ListVectorBuckets'.
    this.endpoint = `https://${this.api.restApiId}.execute-api.${this.region}.${this.urlSuffix}/${stageName}`;
    new CfnOutput(this, 'Endpoint', { value: this.endpoint, description: 'The S3 Vectors endpoint URL (pass as endpoint_url / --endpoint-url)' });
    new CfnOutput(this, 'DataBucketName', { value: this.dataBucket.bucketName, description: 'S3 bucket holding the Lance tables' });
    new CfnOutput(this, 'CatalogTableName', { value: this.catalogTable.tableName, description: 'DynamoDB catalog table' });
    new CfnOutput(this, 'CommitTableName', { value: this.commitTable.tableName, description: 'DynamoDB table of Lance commits' });
    new CfnOutput(this, 'InvokeFullAccessPolicyArn', { value: fullAccess.managedPolicyArn });
    new CfnOutput(this, 'InvokeReadOnlyPolicyArn', { value: readOnly.managedPolicyArn });
  }

  private lanceFunction(
    id: string,
    options: {
      entry: string;
      description: string;
      environment: Record<string, string>;
      memorySize: number;
      timeout: Duration;
      ephemeralStorageSize?: Size;
      logRetention?: logs.RetentionDays;
    },
  ): nodejs.NodejsFunction {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: options.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Our own role: CloudWatch Logs for this function's group only (no AWSLambdaBasicExecutionRole
    // with its `Resource: *`), plus the grants of grantOperation.
    const role = new iam.Role(this, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${logGroup.logGroupArn}`] }));
    return new nodejs.NodejsFunction(this, id, {
      entry: options.entry,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: this.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
      memorySize: options.memorySize,
      timeout: options.timeout,
      ...(options.ephemeralStorageSize && { ephemeralStorageSize: options.ephemeralStorageSize }),
      description: options.description,
      environment: options.environment,
      layers: [this.layer],
      logGroup,
      role,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      projectRoot: PROJECT_ROOT,
      bundling: handlerBundling(),
    });
  }

  private grantOperation(fn: lambda.IFunction, spec: OperationSpec): void {
    // Authorization asks IAM what the calling user or role may do (lambdas/runtime/aws-auth.ts).
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [...IAM_SIMULATOR_ACTIONS],
        resources: [`arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:user/*`, `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/*`],
      }),
    );
    grantCatalog(fn, this, spec.catalog, spec.issuesCursors);
    if (spec.vectors !== 'none') grantVectors(fn, this, spec.vectors);
  }
}

/**
 * esbuild settings of every function: one self-contained CommonJS bundle (AWS SDK included, so the
 * code runs with the SDK version it was tested with), LanceDB's JavaScript and apache-arrow inside
 * it, and only the native platform package left to the layer.
 */
export function handlerBundling(): nodejs.BundlingOptions {
  return {
    forceDockerBundling: false,
    target: 'node22',
    format: nodejs.OutputFormat.CJS,
    minify: true,
    keepNames: true,
    sourceMap: false,
    // index.meta.json beside the bundle lists every input file: the licence gate reads it
    // (test/licence/licences.test.ts).
    metafile: true,
    // Bundle the AWS SDK too (the default would leave @aws-sdk/* to the runtime's copy).
    bundleAwsSDK: true,
    externalModules: [
      '@lancedb/lancedb-*', // the native platform package: from the layer (/opt/nodejs/node_modules)
      '*.node',
      ...LAYER_JS_PACKAGES, // read their own data files at run time: from the layer too
      // LanceDB's optional embedding providers, loaded lazily and never by this service.
      'openai',
      '@huggingface/transformers',
    ],
    logLevel: nodejs.LogLevel.ERROR,
  };
}

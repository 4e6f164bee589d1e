// Authentication and authorization in the AWS deployment.
// authenticate: API Gateway's IAM authorization has verified the SigV4 signature; the caller is the
//   identity it puts in the request context (root, user, role or assumed-role ARN).
// authorize: the caller's identity policies are their real IAM policies, evaluated by IAM itself
//   (SimulatePrincipalPolicy on the principal; an assumed-role session is simulated as its role;
//   lambdas/runtime/iam-identity.ts); the vector bucket's policy is evaluated by the same code as
//   locally; the two are combined by IAM's rules for a same-account request: an explicit Deny in
//   either wins, else an Allow from either grants, else implicit deny. IAM's answers are cached in
//   process and shared across functions for a short time; when IAM fails the caller gets a
//   retryable error (429/503), never an answer.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsIamSimulator, IAM_SIMULATOR_ACTIONS, type IamSimulator } from '../adapters/iam-simulator';
import { DynamoSharedStore, type SharedStore } from '../adapters/shared-decisions';
import { authorize, type AuthorizeContext, type Decision } from '../core/auth/authorize';
import type { Caller } from '../core/auth/identities';
import { principalFromArn, type Principal } from '../core/auth/principal';
import { AccessDeniedError, ProtocolError } from '../core/errors';
import { authenticateStep, authorizeStep, type Authenticator, type Decider, type DecisionRequest } from './auth-steps';
import { identityEvaluator, type CallerDetails } from './iam-identity';
import { logger } from './logger';
import type { PipelineSteps } from './pipeline';

/** IAM actions the handler role needs, on the principals it simulates: grant exactly these. */
export const HANDLER_IAM_ACTIONS: readonly string[] = IAM_SIMULATOR_ACTIONS;

type Log = Pick<typeof logger, 'error' | 'warn' | 'debug'>;

export interface AwsAuthOptions {
  /** The IAM client; defaults to @aws-sdk/client-iam, created on first use. */
  iam?: IamSimulator;
  /**
   * Where answers are shared with the other functions; default the catalog table (S3V_TABLE) when
   * set, `false` for none.
   */
  shared?: SharedStore | false;
  /** Keep aws:SourceIp/aws:UserAgent in the cache key even when no identity policy names them (an SCP or boundary does). */
  cachePerSourceIp?: boolean;
  /** aws:RequestedRegion; default S3V_REGION, else AWS_REGION. */
  region?: string;
  /** How long IAM decisions are reused; default S3V_AUTH_CACHE_SECONDS, else 60. 0 disables the cache. */
  cacheSeconds?: number;
  /** The deployment's account: callers from other accounts are denied. Default S3V_ACCOUNT_ID. */
  accountId?: string;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  log?: Log;
  maxCacheEntries?: number;
}

const missingIdentity = () => new ProtocolError('MissingAuthenticationTokenException', 403, 'Missing Authentication Token');

/** The caller API Gateway's IAM authorization verified, from requestContext.identity. */
export function apiGatewayAuthenticator(): Authenticator {
  return async (event: APIGatewayProxyEvent): Promise<Caller> => {
    const identity = event.requestContext?.identity;
    const arn = identity?.userArn;
    // No userArn: the method was not IAM-authorized (a misconfigured stage). Never let that in.
    if (!arn) throw missingIdentity();
    const principal = principalFromArn(arn);
    if (!principal) throw new AccessDeniedError(`Callers of type ${arn.split(':')[5]?.split('/')[0] ?? 'unknown'} are not supported.`);
    if (identity.accountId && identity.accountId !== principal.accountId) throw missingIdentity();
    const caller: AwsCaller = {
      principal,
      identityPolicies: [],
      details: {
        principalOrgId: identity.principalOrgId ?? undefined,
        userId: identity.user ?? undefined,
        userAgent: identity.userAgent ?? undefined,
      },
    };
    return caller;
  };
}

/** The caller plus what API Gateway says about it that IAM conditions may name. */
export interface AwsCaller extends Caller {
  details?: CallerDetails;
}

function sharedStoreFromEnv(env: NodeJS.ProcessEnv): SharedStore | undefined {
  if (!env.S3V_TABLE) return undefined;
  const dynamo = new DynamoDBClient({ region: env.S3V_REGION ?? env.AWS_REGION, ...(env.S3V_DYNAMODB_ENDPOINT ? { endpoint: env.S3V_DYNAMODB_ENDPOINT } : {}) });
  return new DynamoSharedStore(dynamo, env.S3V_TABLE);
}

function resourceAccount(arn: string): string | undefined {
  return arn === '*' ? undefined : arn.split(':')[4] || undefined;
}

/** The policy as IAM reads it: JSON escapes (`\/`, `\u0054`) resolved, so a key they spell is seen. */
function parsedText(policy: string | undefined): string {
  if (policy === undefined) return '';
  try {
    return JSON.stringify(JSON.parse(policy));
  } catch {
    return policy;
  }
}

/**
 * The bucket policy's request context: the request's own keys plus what the AWS path knows of the
 * caller. The principal's tags cost an IAM lookup (cached), so they are read only for a policy that
 * names aws:PrincipalTag.
 */
async function bucketContext(
  request: DecisionRequest,
  currentTime: Date,
  region: string | undefined,
  details: CallerDetails,
  tagsOf: (principal: Principal) => Promise<Record<string, string>>,
): Promise<AuthorizeContext> {
  const { principal } = request.caller;
  const namesTags = /aws:PrincipalTag\//i.test(parsedText(request.bucketPolicy));
  return {
    sourceIp: request.sourceIp,
    secureTransport: request.secureTransport,
    currentTime,
    resourceTags: request.resourceTags,
    bucketTags: request.bucketTags,
    requestTags: request.check.requestTags,
    tagKeys: request.check.tagKeys,
    requestedRegion: region,
    principalOrgId: details.principalOrgId,
    userId: details.userId,
    userAgent: details.userAgent,
    ...(namesTags && principal.kind !== 'root' && { principalTags: await tagsOf(principal) }),
  };
}

/** Identity policies via IAM, the bucket policy via `authorize`, combined by IAM's same-account rules. */
export function iamDecider(options: AwsAuthOptions = {}): Decider {
  const env = options.env ?? process.env;
  const log = options.log ?? logger;
  const now = options.now ?? (() => new Date());
  const seconds = options.cacheSeconds ?? (env.S3V_AUTH_CACHE_SECONDS !== undefined && env.S3V_AUTH_CACHE_SECONDS !== '' ? Number(env.S3V_AUTH_CACHE_SECONDS) : 60);
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`S3V_AUTH_CACHE_SECONDS must be a number of seconds >= 0, got '${env.S3V_AUTH_CACHE_SECONDS}'`);
  let iam = options.iam;
  const getIam = () => (iam ??= awsIamSimulator({ region: env.AWS_REGION }));
  const region = options.region ?? env.S3V_REGION ?? env.AWS_REGION;
  const identity = identityEvaluator({
    getIam,
    shared: options.shared === false ? undefined : (options.shared ?? sharedStoreFromEnv(env)),
    ttlMs: seconds * 1000,
    maxEntries: options.maxCacheEntries ?? 10_000,
    now,
    log,
    region,
    cachePerSourceIp: options.cachePerSourceIp ?? env.S3V_AUTH_CACHE_PER_SOURCE_IP !== '0',
  });
  const home = options.accountId ?? env.S3V_ACCOUNT_ID;

  return async (request) => {
    const { principal } = request.caller;
    const account = home ?? resourceAccount(request.check.resourceArn) ?? principal.accountId;
    // IAM can simulate only this account's principals, and a cross-account request needs the
    // caller's own account to allow it too: we cannot see that, so we do not guess.
    if (principal.accountId !== account) {
      log.warn({ principal: principal.arn, action: request.check.action }, 'cross-account caller denied');
      return 'implicit-deny';
    }
    const details = (request.caller as AwsCaller).details ?? {};
    // The bucket policy sees the context IAM's simulator gets (lambdas/runtime/iam-identity.ts).
    const policyContext = (): Promise<AuthorizeContext> =>
      bucketContext(request, now(), region, details, (p) => identity.principalTags(p));
    const bucket = async (): Promise<Decision> =>
      request.bucketPolicy === undefined || request.check.resourceArn === '*'
        ? 'implicit-deny'
        : authorize({
            principal,
            action: request.check.action,
            resourceArn: request.check.resourceArn,
            identityPolicies: [],
            bucketPolicy: request.bucketPolicy,
            context: await policyContext(),
            onError: (reason, detail) => log.warn({ reason, detail: String(detail) }, 'bucket policy could not be evaluated; denied'),
          });
    // The root user holds every permission; IAM does not simulate it. `authorize` already gives root
    // everything its bucket policy does not explicitly deny.
    if (principal.kind === 'root') {
      return request.bucketPolicy === undefined || request.check.resourceArn === '*' ? 'allow' : bucket();
    }
    // The bucket policy is evaluated here, without IAM: its explicit Deny settles the request.
    const fromBucket = await bucket();
    if (fromBucket === 'deny') return 'deny';
    // IAM failures throw a retryable error: an identity policy we could not read might hold an
    // explicit Deny, so a bucket-policy allow alone does not let the request in either.
    const fromIdentity = await identity(request, details);
    if (fromIdentity === 'deny') return 'deny';
    if (fromBucket === 'allow' || fromIdentity === 'allow') return 'allow';
    return 'implicit-deny';
  };
}

/** The pipeline steps of the deployed Lambdas: `makeHandler(op, depsFromEnv, awsAuthSteps())`. */
export function awsAuthSteps(options: AwsAuthOptions = {}): PipelineSteps {
  return {
    authenticate: authenticateStep(apiGatewayAuthenticator()),
    authorize: authorizeStep(iamDecider(options), true),
  };
}

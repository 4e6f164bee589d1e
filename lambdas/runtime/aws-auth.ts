// Authentication and authorization in the AWS deployment.
// authenticate: API Gateway's IAM authorization has verified the SigV4 signature; the caller is the
//   identity it puts in the request context (root, user, role or assumed-role ARN).
// authorize: the caller's identity policies are their real IAM policies, evaluated by IAM itself
//   (SimulatePrincipalPolicy on the principal; an assumed-role session is simulated as its role);
//   the vector bucket's policy is evaluated by the same code as locally; the two are combined by
//   IAM's rules for a same-account request: an explicit Deny in either wins, else an Allow from
//   either grants, else implicit deny. IAM's answers are cached for a short time; IAM errors deny.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createHash } from 'node:crypto';
import {
  awsIamSimulator,
  IAM_SIMULATOR_ACTIONS,
  type ContextEntry,
  type IamSimulator,
} from '../adapters/iam-simulator';
import { authorize, type Decision } from '../core/auth/authorize';
import type { Caller } from '../core/auth/identities';
import { principalFromArn, simulationArn, type Principal } from '../core/auth/principal';
import { AccessDeniedError, ProtocolError } from '../core/errors';
import { authenticateStep, authorizeStep, type Authenticator, type Decider, type DecisionRequest } from './auth-steps';
import { logger } from './logger';
import type { PipelineSteps } from './pipeline';

/** IAM actions the handler role needs, on the principals it simulates: grant exactly these. */
export const HANDLER_IAM_ACTIONS: readonly string[] = IAM_SIMULATOR_ACTIONS;

type Log = Pick<typeof logger, 'error' | 'warn' | 'debug'>;

export interface AwsAuthOptions {
  /** The IAM client; defaults to @aws-sdk/client-iam, created on first use. */
  iam?: IamSimulator;
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
    return { principal, identityPolicies: [] };
  };
}

/** `arn:aws:sts::A:assumed-role/R/session` → `arn:aws:iam::A:role/R`; other principals as they are. */

function contextEntries(principal: Principal, request: DecisionRequest, now: Date): ContextEntry[] {
  const entries: ContextEntry[] = [];
  const add = (name: string, type: ContextEntry['ContextKeyType'], values: string[]) => {
    if (values.length) entries.push({ ContextKeyName: name, ContextKeyValues: values, ContextKeyType: type });
  };
  add('aws:SourceIp', 'ip', [request.sourceIp]);
  add('aws:SecureTransport', 'boolean', [String(request.secureTransport)]);
  add('aws:CurrentTime', 'date', [now.toISOString()]);
  add('aws:EpochTime', 'numeric', [String(Math.floor(now.getTime() / 1000))]);
  // For a role session IAM's aws:PrincipalArn is the role's ARN.
  add('aws:PrincipalArn', 'string', [simulationArn(principal)]);
  add('aws:PrincipalAccount', 'string', [principal.accountId]);
  if (principal.userName !== undefined) add('aws:username', 'string', [principal.userName]);
  for (const [k, v] of Object.entries(request.resourceTags ?? {})) add(`aws:ResourceTag/${k}`, 'string', [v]);
  for (const [k, v] of Object.entries(request.bucketTags ?? {})) add(`s3vectors:VectorBucketTag/${k}`, 'string', [v]);
  for (const [k, v] of Object.entries(request.check.requestTags ?? {})) add(`aws:RequestTag/${k}`, 'string', [v]);
  add('aws:TagKeys', 'stringList', request.check.tagKeys ?? Object.keys(request.check.requestTags ?? {}));
  return entries;
}

const TIME_KEYS = new Set(['aws:CurrentTime', 'aws:EpochTime']);

function fromEval(decision: string | undefined): Decision {
  if (decision === 'allowed') return 'allow';
  if (decision === 'explicitDeny') return 'deny';
  if (decision === 'implicitDeny') return 'implicit-deny';
  throw new Error(`IAM returned no decision (${String(decision)})`);
}

/** IAM's decision for the caller's identity policies, cached; concurrent identical questions share one call. */
function identityEvaluator(getIam: () => IamSimulator, ttlMs: number, maxEntries: number, now: () => Date, log: Log) {
  const cache = new Map<string, { decision: Promise<Decision>; expires: number }>();
  const roleArns = new Map<string, string>();

  const simulate = async (policySourceArn: string, action: string, resourceArn: string, entries: ContextEntry[]): Promise<Decision> => {
    const out = await getIam().simulatePrincipalPolicy({
      PolicySourceArn: policySourceArn,
      ActionNames: [action],
      ...(resourceArn !== '*' && { ResourceArns: [resourceArn] }),
      ContextEntries: entries,
    });
    const result = out.EvaluationResults?.find((r) => r.EvalActionName?.toLowerCase() === action.toLowerCase()) ?? out.EvaluationResults?.[0];
    return fromEval(result?.EvalDecision);
  };

  // A role under a path (e.g. IAM Identity Center's aws-reserved/sso.amazonaws.com/) is not
  // role/<name>: on NoSuchEntity, ask IAM for the role's real ARN once and remember it.
  const simulateFor = async (principal: Principal, action: string, resourceArn: string, entries: ContextEntry[]): Promise<Decision> => {
    const guess = simulationArn(principal);
    const known = roleArns.get(guess);
    try {
      return await simulate(known ?? guess, action, resourceArn, entries);
    } catch (e) {
      const iam = getIam();
      const noSuchEntity = /NoSuchEntity/.test((e as { name?: string })?.name ?? '');
      if (!noSuchEntity || principal.kind !== 'assumed-role' || known || !iam.getRole) throw e;
      const role = await iam.getRole({ RoleName: guess.slice(guess.lastIndexOf('/') + 1) });
      const arn = role.Role?.Arn;
      if (!arn || arn === guess) throw e;
      if (roleArns.size >= maxEntries) roleArns.clear();
      roleArns.set(guess, arn);
      return simulate(arn, action, resourceArn, entries);
    }
  };

  return async (request: DecisionRequest): Promise<Decision | 'error'> => {
    const { principal } = request.caller;
    const at = now();
    const entries = contextEntries(principal, request, at);
    const { action, resourceArn } = request.check;
    // Time keys stay out of the key: a time-based condition may lag by up to the TTL.
    const key = createHash('sha256')
      .update(JSON.stringify([principal.arn, action, resourceArn, entries.filter((e) => !TIME_KEYS.has(e.ContextKeyName))]))
      .digest('base64');
    const hit = ttlMs > 0 ? cache.get(key) : undefined;
    if (hit && hit.expires > at.getTime()) return hit.decision;
    const decision = simulateFor(principal, action, resourceArn, entries);
    if (ttlMs > 0) {
      if (cache.size >= maxEntries) cache.clear();
      cache.set(key, { decision, expires: at.getTime() + ttlMs });
      // Failures are never remembered.
      decision.catch(() => cache.get(key)?.decision === decision && cache.delete(key));
    }
    try {
      return await decision;
    } catch (e) {
      const err = e as { name?: string; message?: string; $metadata?: { requestId?: string } };
      log.error(
        { err: { name: err?.name, message: err?.message, requestId: err?.$metadata?.requestId }, principal: principal.arn, action, resourceArn },
        'IAM SimulatePrincipalPolicy failed; request denied',
      );
      return 'error';
    }
  };
}

function resourceAccount(arn: string): string | undefined {
  return arn === '*' ? undefined : arn.split(':')[4] || undefined;
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
  const identity = identityEvaluator(getIam, seconds * 1000, options.maxCacheEntries ?? 10_000, now, log);
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
    const policyContext = {
      sourceIp: request.sourceIp,
      secureTransport: request.secureTransport,
      currentTime: now(),
      resourceTags: request.resourceTags,
      bucketTags: request.bucketTags,
      requestTags: request.check.requestTags,
      tagKeys: request.check.tagKeys,
    };
    const bucket = (): Promise<Decision> =>
      request.bucketPolicy === undefined || request.check.resourceArn === '*'
        ? Promise.resolve('implicit-deny')
        : authorize({
            principal,
            action: request.check.action,
            resourceArn: request.check.resourceArn,
            identityPolicies: [],
            bucketPolicy: request.bucketPolicy,
            context: policyContext,
            onError: (reason, detail) => log.warn({ reason, detail: String(detail) }, 'bucket policy could not be evaluated; denied'),
          });
    // The root user holds every permission; IAM does not simulate it. `authorize` already gives root
    // everything its bucket policy does not explicitly deny.
    if (principal.kind === 'root') {
      return request.bucketPolicy === undefined || request.check.resourceArn === '*' ? 'allow' : bucket();
    }
    const [fromBucket, fromIdentity] = await Promise.all([bucket(), identity(request)]);
    // Fail closed: an identity policy we could not read might hold an explicit Deny.
    if (fromIdentity === 'error') return 'implicit-deny';
    if (fromBucket === 'deny' || fromIdentity === 'deny') return 'deny';
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

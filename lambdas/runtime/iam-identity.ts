// The caller's identity-policy decision in the AWS deployment, from IAM's SimulatePrincipalPolicy:
// - the request context IAM needs to evaluate conditions (SCPs and permissions boundaries too):
//   aws:RequestedRegion, aws:PrincipalTag/… (the user's or role's tags), aws:PrincipalOrgID when
//   API Gateway reports it, and every key a bucket policy can name;
// - answers cached in process and shared across the deployment's functions (catalog table, TTL);
//   the cache key leaves out aws:SourceIp / aws:UserAgent unless the principal's policies name them;
// - IAM failures become the model's retryable errors (TooManyRequestsException 429 when IAM
//   throttles, ServiceUnavailableException 503 otherwise), never an answer.
import { createHash } from 'node:crypto';
import type { ContextEntry, IamSimulator, TagList } from '../adapters/iam-simulator';
import type { SharedEntry, SharedStore } from '../adapters/shared-decisions';
import type { Decision } from '../core/auth/authorize';
import { simulationArn, type Principal } from '../core/auth/principal';
import { ServiceError } from '../core/errors';
import type { DecisionRequest } from './auth-steps';

export type Log = { error(obj: object, msg: string): void; warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };

/** What API Gateway tells about the caller beyond its ARN (requestContext.identity). */
export interface CallerDetails {
  principalOrgId?: string;
  userId?: string;
  userAgent?: string;
}

export interface PrincipalFacts {
  tags: Record<string, string>;
  /** Condition keys the principal's own policies name, lower-cased; undefined when IAM did not say. */
  contextKeys?: string[];
}

const TIME_KEYS = new Set(['aws:currenttime', 'aws:epochtime']);
/** Keys that vary per request of one principal: in the cache key only if its policies name them. */
const VOLATILE_KEYS = new Set(['aws:sourceip', 'aws:useragent', 'aws:userid']);

export function contextEntries(principal: Principal, request: DecisionRequest, now: Date, facts: PrincipalFacts, details: CallerDetails, region?: string): ContextEntry[] {
  const entries: ContextEntry[] = [];
  const add = (name: string, type: ContextEntry['ContextKeyType'], values: (string | undefined)[]) => {
    const present = values.filter((v): v is string => v !== undefined && v !== '');
    if (present.length) entries.push({ ContextKeyName: name, ContextKeyValues: present, ContextKeyType: type });
  };
  add('aws:SourceIp', 'ip', [request.sourceIp]);
  add('aws:SecureTransport', 'boolean', [String(request.secureTransport)]);
  add('aws:CurrentTime', 'date', [now.toISOString()]);
  add('aws:EpochTime', 'numeric', [String(Math.floor(now.getTime() / 1000))]);
  // Without it, a region-restricting SCP (Control Tower's) denies every call real AWS would allow.
  add('aws:RequestedRegion', 'string', [region]);
  // For a role session IAM's aws:PrincipalArn is the role's ARN.
  add('aws:PrincipalArn', 'string', [simulationArn(principal)]);
  add('aws:PrincipalAccount', 'string', [principal.accountId]);
  add('aws:PrincipalType', 'string', [principal.kind === 'user' ? 'User' : principal.kind === 'assumed-role' ? 'AssumedRole' : undefined]);
  add('aws:PrincipalOrgID', 'string', [details.principalOrgId]);
  add('aws:PrincipalIsAWSService', 'boolean', ['false']);
  add('aws:ViaAWSService', 'boolean', ['false']);
  add('aws:userid', 'string', [details.userId]);
  add('aws:UserAgent', 'string', [details.userAgent]);
  if (principal.userName !== undefined) add('aws:username', 'string', [principal.userName]);
  for (const [k, v] of Object.entries(facts.tags)) add(`aws:PrincipalTag/${k}`, 'string', [v]);
  for (const [k, v] of Object.entries(request.resourceTags ?? {})) add(`aws:ResourceTag/${k}`, 'string', [v]);
  for (const [k, v] of Object.entries(request.bucketTags ?? {})) add(`s3vectors:VectorBucketTag/${k}`, 'string', [v]);
  for (const [k, v] of Object.entries(request.check.requestTags ?? {})) add(`aws:RequestTag/${k}`, 'string', [v]);
  if (request.check.tagKeys?.length || Object.keys(request.check.requestTags ?? {}).length) {
    add('aws:TagKeys', 'stringList', request.check.tagKeys ?? Object.keys(request.check.requestTags ?? {}));
  }
  return entries;
}

/** The entries a cached answer depends on: no time keys; per-request keys only if a policy names them. */
export function cacheRelevant(entries: ContextEntry[], facts: PrincipalFacts): ContextEntry[] {
  const named = facts.contextKeys ? new Set(facts.contextKeys) : undefined;
  return entries.filter((e) => {
    const key = e.ContextKeyName.toLowerCase();
    if (TIME_KEYS.has(key)) return false;
    return !VOLATILE_KEYS.has(key) || !named || named.has(key);
  });
}

const THROTTLED = /^(Throttling|ThrottlingException|TooManyRequestsException|RequestLimitExceeded|LimitExceeded|SlowDown)$/;

/**
 * IAM refused the function's own role (it lacks iam:SimulatePrincipalPolicy or a tag lookup): a
 * misconfigured deployment, not a passing failure. AccessDeniedException (403) is the model's one
 * error that no SDK retries and that is not about the request's input; its message says that the
 * deployment's role, not the caller, lacks the permission.
 */
function roleDenied(e: unknown): ServiceError | undefined {
  const err = e as { name?: string; message?: string };
  // By name only: other 403s (ExpiredToken of the role's rotating credentials) are passing failures.
  if (!/^AccessDenied(Exception)?$/.test(err?.name ?? '')) return undefined;
  const action = /perform: (iam:[A-Za-z]+)/.exec(err?.message ?? '')?.[1] ?? 'iam:SimulatePrincipalPolicy';
  return new ServiceError(
    'AccessDeniedException',
    403,
    `Permissions could not be checked: this deployment's function role is not allowed ${action} (IAM answered AccessDenied). ` +
      'The deployment is misconfigured (grant its functions the actions in HANDLER_IAM_ACTIONS); retrying will not help.',
  );
}

/** An IAM failure as the error the caller's SDK retries (or, for the function role's own AccessDenied, does not). */
export function iamFailure(e: unknown): ServiceError {
  const denied = roleDenied(e);
  if (denied) return denied;
  const name = (e as { name?: string })?.name ?? '';
  if (THROTTLED.test(name) || (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 429) {
    return new ServiceError('TooManyRequestsException', 429, 'Permissions could not be checked: IAM is throttling requests. Retry with backoff.');
  }
  return new ServiceError('ServiceUnavailableException', 503, 'Permissions could not be checked: IAM did not answer. Retry your request.');
}

const isNoSuchEntity = (e: unknown) => /NoSuchEntity/.test((e as { name?: string })?.name ?? '');

function fromEval(result: NonNullable<Awaited<ReturnType<IamSimulator['simulatePrincipalPolicy']>>['EvaluationResults']>[number] | undefined): Decision {
  const decision = result?.EvalDecision;
  if (decision === 'explicitDeny') return 'deny';
  if (decision === 'implicitDeny') return 'implicit-deny';
  if (decision === 'allowed') {
    // Defensive: an allow that an SCP or a permissions boundary does not allow is no allow.
    if (result?.OrganizationsDecisionDetail?.AllowedByOrganizations === false) return 'implicit-deny';
    if (result?.PermissionsBoundaryDecisionDetail?.AllowedByPermissionsBoundary === false) return 'implicit-deny';
    return 'allow';
  }
  throw new Error(`IAM returned no decision (${String(decision)})`);
}

const isDecision = (v: unknown): v is Decision => v === 'allow' || v === 'deny' || v === 'implicit-deny';
const isFacts = (v: unknown): v is PrincipalFacts =>
  typeof v === 'object' && v !== null && typeof (v as PrincipalFacts).tags === 'object' && (v as PrincipalFacts).tags !== null &&
  Object.values((v as PrincipalFacts).tags).every((t) => typeof t === 'string') &&
  ((v as PrincipalFacts).contextKeys === undefined || (Array.isArray((v as PrincipalFacts).contextKeys) && (v as PrincipalFacts).contextKeys!.every((k) => typeof k === 'string')));

const isSharedEntry = (v: unknown): v is SharedEntry =>
  typeof v === 'object' && v !== null && 'value' in v && typeof (v as SharedEntry).expiresAt === 'number' && Number.isFinite((v as SharedEntry).expiresAt);

const hash = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('base64url');

/** A value cached in process and in the shared store; concurrent identical lookups share one promise. */
function twoLevelCache(shared: SharedStore | undefined, ttlMs: number, maxEntries: number, now: () => number, log: Log) {
  const local = new Map<string, { value: Promise<unknown>; expires: number }>();
  return async <T>(key: string, load: () => Promise<T>, valid: (v: unknown) => v is T): Promise<T> => {
    if (ttlMs <= 0) return load();
    const at = now();
    const hit = local.get(key);
    if (hit && hit.expires > at) return hit.value as Promise<T>;
    const entry: { value: Promise<unknown>; expires: number } = { value: Promise.resolve(), expires: at + ttlMs };
    const value = (async () => {
      const stored = await shared?.get(key, at).catch((e: unknown) => {
        log.debug({ err: { name: (e as Error)?.name, message: (e as Error)?.message } }, 'shared IAM cache unreadable; asking IAM');
        return undefined;
      });
      // Anything unexpected in the shared item (an older format, a bad write) is a miss.
      if (isSharedEntry(stored) && stored.expiresAt > at && valid(stored.value)) {
        // The answer is as old as its first load, not this read: keep it no longer than the stored
        // expiry, or each reader would add a TTL (a changed policy would take up to 2 × TTL).
        entry.expires = Math.min(entry.expires, stored.expiresAt);
        return stored.value;
      }
      const loaded = await load();
      await shared?.put(key, loaded, at + ttlMs).catch((e: unknown) => log.debug({ err: { name: (e as Error)?.name } }, 'shared IAM cache not written'));
      return loaded;
    })();
    entry.value = value;
    if (local.size >= maxEntries) local.clear();
    local.set(key, entry);
    // Failures are never remembered.
    value.catch(() => local.get(key)?.value === value && local.delete(key));
    return value;
  };
}

export interface IdentityEvaluatorOptions {
  getIam: () => IamSimulator;
  shared?: SharedStore;
  ttlMs: number;
  maxEntries: number;
  now: () => Date;
  log: Log;
  region?: string;
  /** Never leave per-request keys out of the cache key (an SCP or boundary names aws:SourceIp). */
  cachePerSourceIp?: boolean;
}

const tagMap = (list: TagList): Record<string, string> =>
  Object.fromEntries((list.Tags ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key!, t.Value ?? '']));

/** IAM's decision for the caller's identity policies. Throws a retryable ServiceError when IAM fails. */
export function identityEvaluator(options: IdentityEvaluatorOptions) {
  const { getIam, log } = options;
  const cached = twoLevelCache(options.shared, options.ttlMs, options.maxEntries, () => options.now().getTime(), log);
  const roleArns = new Map<string, string>();

  const roleName = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

  const facts = (principal: Principal): Promise<PrincipalFacts> => {
    const source = simulationArn(principal);
    return cached(hash(['facts', source]), async (): Promise<PrincipalFacts> => {
      const iam = getIam();
      const tagsCall =
        principal.kind === 'user' ? iam.listUserTags?.({ UserName: principal.userName! }) : principal.kind === 'root' ? undefined : iam.listRoleTags?.({ RoleName: roleName(source) });
      const [tags, keys] = await Promise.all([
        (tagsCall ?? Promise.resolve({} as TagList)).catch((e: unknown) => {
          // A principal IAM does not know has no tags (its simulation will deny).
          if (isNoSuchEntity(e)) return {} as TagList;
          throw e;
        }),
        // Only an optimization (a smaller cache key): without an answer, keep per-request keys in it.
        iam.getContextKeysForPrincipalPolicy?.({ PolicySourceArn: roleArns.get(source) ?? source }).catch(() => undefined),
      ]);
      return { tags: tagMap(tags), contextKeys: options.cachePerSourceIp ? undefined : keys?.ContextKeyNames?.map((k) => k.toLowerCase()) };
    }, isFacts);
  };

  const simulate = async (policySourceArn: string, action: string, resourceArn: string, entries: ContextEntry[]): Promise<Decision> => {
    const out = await getIam().simulatePrincipalPolicy({
      PolicySourceArn: policySourceArn,
      ActionNames: [action],
      ...(resourceArn !== '*' && { ResourceArns: [resourceArn] }),
      ContextEntries: entries,
    });
    const result = out.EvaluationResults?.find((r) => r.EvalActionName?.toLowerCase() === action.toLowerCase()) ?? out.EvaluationResults?.[0];
    return fromEval(result);
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
      if (!isNoSuchEntity(e)) throw e;
      if (principal.kind !== 'assumed-role' || known || !iam.getRole) return 'implicit-deny';
      const role = await iam.getRole({ RoleName: roleName(guess) }).catch((err: unknown) => {
        if (isNoSuchEntity(err)) return undefined;
        throw err;
      });
      const arn = role?.Role?.Arn;
      if (!arn || arn === guess) return 'implicit-deny';
      if (roleArns.size >= options.maxEntries) roleArns.clear();
      roleArns.set(guess, arn);
      return simulate(arn, action, resourceArn, entries);
    }
  };

  /** The principal's IAM tags (cached with its other facts), for a bucket policy naming aws:PrincipalTag. */
  const principalTags = async (principal: Principal): Promise<Record<string, string>> => {
    if (principal.kind === 'root') return {};
    try {
      return (await facts(principal)).tags;
    } catch (e) {
      log.error({ err: { name: (e as Error)?.name, message: (e as Error)?.message }, principal: principal.arn }, 'IAM tags could not be read; answered with an error');
      throw iamFailure(e);
    }
  };

  const decide = async (request: DecisionRequest, details: CallerDetails): Promise<Decision> => {
    const { principal } = request.caller;
    const { action, resourceArn } = request.check;
    try {
      const known = await facts(principal);
      const entries = contextEntries(principal, request, options.now(), known, details, options.region);
      // Keyed on the simulated ARN: every session of one role shares its answers.
      const key = hash(['decision', simulationArn(principal), action, resourceArn, cacheRelevant(entries, known)]);
      return await cached(key, () => simulateFor(principal, action, resourceArn, entries), isDecision);
    } catch (e) {
      const err = e as { name?: string; message?: string; $metadata?: { requestId?: string } };
      log.error(
        { err: { name: err?.name, message: err?.message, requestId: err?.$metadata?.requestId }, principal: principal.arn, action, resourceArn },
        'IAM could not be asked; answered with a retryable error',
      );
      throw iamFailure(e);
    }
  };
  return Object.assign(decide, { principalTags });
}

// Authentication and authorization as two pipeline steps, written once for every operation.
// authenticate: who is calling (SigV4 locally; API Gateway's IAM auth in AWS).
// authorize: may they perform s3vectors:<Operation> (and its coupled actions) on the ARN it touches,
// under their identity policies and the bucket's resource policy.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createHash } from 'node:crypto';
import { authorize, type Decision } from '../core/auth/authorize';
import type { Caller } from '../core/auth/identities';
import { requiredActions, type ActionCheck } from '../core/auth/required-actions';
import { verifySignature, type SecretLookup } from '../core/auth/sigv4';
import type { Deps } from '../core/deps';
import { AccessDeniedError } from '../core/errors';
import { parseArn } from '../core/resources';
import type { Tags } from '../core/ports';
import { rawBody } from './event-codec';
import { logger } from './logger';
import type { OperationContext, Step } from './pipeline';

/** `payloadHash`: the body's SHA-256 (hex) computed off the event loop, if it was (undefined: hash here). */
export type Authenticator = (event: APIGatewayProxyEvent, payloadHash?: Promise<string | undefined>) => Promise<Caller>;

/** Everything an identity-policy decision may depend on besides the caller. */
export interface DecisionRequest {
  caller: Caller;
  check: ActionCheck;
  bucketPolicy?: string;
  resourceTags?: Tags;
  bucketTags?: Tags;
  sourceIp: string;
  secureTransport: boolean;
}

export type Decider = (request: DecisionRequest) => Promise<Decision>;

/**
 * Lower-case headers, every value kept: from multiValueHeaders when the event has them (a repeated
 * header, in any letter case, is joined with ', ' and reported as repeated), else from headers.
 */
function lowerCaseHeaders(event: APIGatewayProxyEvent): { headers: Record<string, string>; repeated: Set<string> } {
  const values = new Map<string, string[]>();
  const add = (name: string, value: string | undefined) => {
    if (value === undefined) return;
    const key = name.toLowerCase();
    const list = values.get(key);
    if (list) list.push(value);
    else values.set(key, [value]);
  };
  const multi = event.multiValueHeaders;
  if (multi && Object.keys(multi).length) for (const [name, list] of Object.entries(multi)) for (const v of list ?? []) add(name, v);
  else for (const [name, v] of Object.entries(event.headers ?? {})) add(name, v);
  const headers: Record<string, string> = {};
  const repeated = new Set<string>();
  for (const [name, list] of values) {
    headers[name] = list.join(', ');
    if (list.length > 1) repeated.add(name);
  }
  return { headers, repeated };
}

/** Local mode: verify the request's SigV4 signature against known access keys. */
export function sigv4Authenticator(lookup: SecretLookup<Caller>, region: string, now: () => Date = () => new Date()): Authenticator {
  return async (event, payloadHash) => {
    const { headers, repeated } = lowerCaseHeaders(event);
    const bodyHash = payloadHash && (await payloadHash);
    return verifySignature(
      {
        method: event.httpMethod,
        path: event.path,
        query: (event.multiValueQueryStringParameters ?? {}) as Record<string, string[]>,
        headers,
        repeatedHeaders: repeated,
        // Read only when needed: the local server decodes a large body's text on first read.
        // The local server keeps a body's bytes when they are valid UTF-8: the same hash, no re-encoding.
        body: bodyHash === undefined ? (rawBody(event) ?? event.body ?? '') : '',
        bodyHash,
      },
      lookup,
      { region, now: now(), services: ['s3vectors', 'execute-api'] },
    );
  };
}

export function authenticateStep(authenticator: Authenticator): Step {
  return {
    before: async (request) => {
      (request.context as AuthContext).caller = await authenticator(request.event, request.context.payloadHash);
    },
  };
}

interface AuthContext extends OperationContext {
  caller: Caller;
}

/**
 * Identity and bucket policies evaluated together by IAM's rules (the local mode decider). `region`
 * is aws:RequestedRegion, as AWS sets it on every request (the SigV4 scope is checked against it).
 */
export const policyDocumentDeciderFor = (region?: string): Decider => (request) =>
  authorize({
    principal: request.caller.principal,
    action: request.check.action,
    resourceArn: request.check.resourceArn,
    identityPolicies: request.caller.identityPolicies,
    bucketPolicy: request.bucketPolicy,
    context: {
      sourceIp: request.sourceIp,
      secureTransport: request.secureTransport,
      currentTime: new Date(),
      resourceTags: request.resourceTags,
      bucketTags: request.bucketTags,
      requestTags: request.check.requestTags,
      tagKeys: request.check.tagKeys,
      ...(region !== undefined && { requestedRegion: region }),
    },
    onError: (reason, detail) => logger.warn({ reason, detail: String(detail) }, 'policy could not be evaluated; denied'),
  });

/**
 * Remembers decisions for a short time: the key holds everything the decision reads (policies,
 * tags, source address), so a changed policy is never served a stale answer; only time-based
 * conditions may lag by up to the TTL.
 */
export function cachedDecider(decider: Decider, ttlMs: number, maxEntries = 10_000): Decider {
  const cache = new Map<string, { decision: Decision; expires: number }>();
  return async (request) => {
    const key = createHash('sha256')
      .update(
        JSON.stringify([
          request.caller.principal.arn,
          request.caller.identityPolicies,
          request.check,
          request.bucketPolicy ?? null,
          request.resourceTags ?? null,
          request.bucketTags ?? null,
          request.sourceIp,
          request.secureTransport,
        ]),
      )
      .digest('base64');
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.expires > now) return hit.decision;
    const decision = await decider(request);
    if (cache.size >= maxEntries) cache.clear();
    cache.set(key, { decision, expires: now + ttlMs });
    return decision;
  };
}

async function resourceTags(deps: Deps, check: ActionCheck): Promise<{ bucketPolicy?: string; resourceTags?: Tags; bucketTags?: Tags }> {
  if (!check.bucketName) return {};
  const bucket = await deps.catalog.getBucket(check.bucketName);
  const target = parseArn(check.resourceArn);
  let tags = bucket?.tags;
  if (target?.index !== undefined) tags = (await deps.catalog.getIndex(target.bucket, target.index))?.tags;
  return { bucketPolicy: bucket?.policy, resourceTags: tags, bucketTags: bucket?.tags };
}

/**
 * `secureTransport` says whether requests arrive over TLS (aws:SecureTransport). It comes from the
 * front door, never from a request header a client could set: the local server speaks plain HTTP,
 * API Gateway only HTTPS.
 */
export function authorizeStep(decider: Decider, secureTransport: boolean): Step {
  return {
    before: async (request) => {
      const context = request.context as AuthContext;
      const { caller, deps, operation, input } = context;
      const identity = request.event.requestContext?.identity;
      // Coupled checks (QueryVectors + GetVectors, ...) touch the same resource: read it once.
      const resources = new Map<string, ReturnType<typeof resourceTags>>();
      for (const check of requiredActions(operation.name, input, deps.config)) {
        const key = `${check.bucketName ?? ''}\n${check.resourceArn}`;
        if (!resources.has(key)) resources.set(key, resourceTags(deps, check));
        const decision = await decider({
          caller,
          check,
          ...(await resources.get(key)!),
          sourceIp: identity?.sourceIp ?? '127.0.0.1',
          secureTransport,
        });
        if (decision !== 'allow') {
          const why = decision === 'deny' ? 'with an explicit deny in a policy' : 'because no policy allows the action';
          throw new AccessDeniedError(
            `User: ${caller.principal.arn} is not authorized to perform: ${check.action} on resource: ${check.resourceArn} ${why}`,
          );
        }
      }
    },
  };
}

// IAM policy evaluation for one action on one resource: glue around @cloud-copilot/iam-simulate,
// which implements IAM's logic (explicit Deny wins; same-account Allow from identity or resource
// policy; wildcards, NotAction/NotResource/NotPrincipal, every condition operator).
import { createValidatedPolicy, validateResourcePolicy } from '@cloud-copilot/iam-policy';
import { runSimulation, runUnsafeSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { simulationArn, type Principal } from '../../lambdas/core/auth/principal';

export type Decision = 'allow' | 'deny' | 'implicit-deny';

export interface AuthorizeContext {
  sourceIp: string;
  secureTransport: boolean;
  currentTime: Date;
  /** Tags of the resource the action touches (aws:ResourceTag/…). */
  resourceTags?: Record<string, string>;
  /** Tags of the vector bucket holding it (s3vectors:VectorBucketTag/…). */
  bucketTags?: Record<string, string>;
  /** Tags the request sets (aws:RequestTag/…, aws:TagKeys). */
  requestTags?: Record<string, string>;
  /** Tag keys the request removes (aws:TagKeys for UntagResource). */
  tagKeys?: string[];
}

export interface AuthorizeInput {
  principal: Principal;
  action: string;
  /** `*` for actions without a resource type (ListVectorBuckets). */
  resourceArn: string;
  /** Identity policy documents (JSON) attached to the principal. */
  identityPolicies: string[];
  /** The vector bucket's resource policy (JSON), if any. */
  bucketPolicy?: string;
  context: AuthorizeContext;
  /** Told why a request was denied without evaluation (an unreadable policy): we fail closed. */
  onError?: (reason: string, detail: unknown) => void;
}

// The root user holds every permission; only an explicit Deny (in the bucket policy) limits it.
const ROOT_POLICY = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

const PRINCIPAL_TYPE: Record<Principal['kind'], string | undefined> = {
  root: 'Account',
  user: 'User',
  'assumed-role': 'AssumedRole',
  role: undefined,
};

function contextVariables(principal: Principal, ctx: AuthorizeContext): Record<string, string | string[]> {
  const vars: Record<string, string | string[]> = {
    'aws:SourceIp': ctx.sourceIp,
    'aws:PrincipalArn': simulationArn(principal), // a role session is evaluated as its role
    'aws:PrincipalAccount': principal.accountId,
    'aws:CurrentTime': ctx.currentTime.toISOString(),
    'aws:EpochTime': String(Math.floor(ctx.currentTime.getTime() / 1000)),
    'aws:SecureTransport': String(ctx.secureTransport),
  };
  const type = PRINCIPAL_TYPE[principal.kind];
  if (type) vars['aws:PrincipalType'] = type;
  if (principal.userName !== undefined) vars['aws:username'] = principal.userName;
  for (const [k, v] of Object.entries(ctx.resourceTags ?? {})) vars[`aws:ResourceTag/${k}`] = v;
  for (const [k, v] of Object.entries(ctx.bucketTags ?? {})) vars[`s3vectors:VectorBucketTag/${k}`] = v;
  for (const [k, v] of Object.entries(ctx.requestTags ?? {})) vars[`aws:RequestTag/${k}`] = v;
  const tagKeys = ctx.tagKeys ?? (ctx.requestTags ? Object.keys(ctx.requestTags) : undefined);
  if (tagKeys) vars['aws:TagKeys'] = tagKeys;
  return vars;
}

function parsePolicies(input: AuthorizeInput): { identity: unknown[]; bucket?: unknown } {
  const identity = input.principal.kind === 'root' ? [ROOT_POLICY] : input.identityPolicies.map((p) => JSON.parse(p));
  const bucket = input.bucketPolicy !== undefined && input.resourceArn !== '*' ? JSON.parse(input.bucketPolicy) : undefined;
  return { identity, bucket };
}

const resourceAccount = (arn: string, fallback: string) => arn.split(':')[4] || fallback;

function decision(result: string): Decision {
  if (result === 'Allowed') return 'allow';
  return result === 'ExplicitlyDenied' ? 'deny' : 'implicit-deny';
}

/** IAM's decision for `principal` doing `action` on `resourceArn`. Never throws for bad policies: it denies. */
export async function authorize(input: AuthorizeInput): Promise<Decision> {
  let policies: ReturnType<typeof parsePolicies>;
  try {
    policies = parsePolicies(input);
  } catch (e) {
    input.onError?.('policy is not valid JSON', e);
    return 'implicit-deny';
  }
  try {
    return await evaluate(input, policies);
  } catch (e) {
    // The evaluator throws on some malformed documents (e.g. a policy that is JSON `null`).
    input.onError?.('policy evaluation threw', e);
    return 'implicit-deny';
  }
}

async function evaluate(input: AuthorizeInput, policies: ReturnType<typeof parsePolicies>): Promise<Decision> {
  const simulation: Simulation = {
    request: {
      principal: input.principal.arn,
      action: input.action,
      resource: { resource: input.resourceArn, accountId: resourceAccount(input.resourceArn, input.principal.accountId) },
      contextVariables: contextVariables(input.principal, input.context),
    },
    identityPolicies: policies.identity.map((policy, i) => ({ name: `identity-${i}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    // Pre-validated with a name: runUnsafeSimulation crashes on a resource policy without metadata.
    ...(policies.bucket !== undefined && {
      resourcePolicy: createValidatedPolicy(policies.bucket, validateResourcePolicy, { name: 'bucket-policy' }),
    }),
  };
  const result = await runSimulation(simulation, { simulationMode: 'Strict' });
  if (result.resultType !== 'error') return decision(result.overallResult);
  // The bundled IAM action catalogue may predate the newest s3vectors actions (UpdateIndexMode,
  // PutVectorBucketDefaultIndexMode). Policies were already validated when this error is reported,
  // so evaluating without the catalogue's action/context-key checks is safe.
  if (result.errors.message === 'invalid.action') return decision(runUnsafeSimulation(simulation, {}));
  input.onError?.(`policy evaluation failed: ${result.errors.message}`, result.errors);
  return 'implicit-deny';
}

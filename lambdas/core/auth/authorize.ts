// IAM policy evaluation for one action on one resource, with the project's own engine
// (./policy): the request context the server knows, the root user's implicit permissions, and
// failing closed on a policy that cannot be read.
import { policyProblem, type PolicyDocument } from './policy/document';
import { evaluate, type Decision } from './policy/evaluate';
import { simulationArn, type Principal } from './principal';

export type { Decision };

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
  /** What the AWS deployment also knows of a request (the keys it sends IAM's simulator too). */
  requestedRegion?: string;
  /** The calling user's or role's IAM tags (aws:PrincipalTag/…). */
  principalTags?: Record<string, string>;
  principalOrgId?: string;
  userId?: string;
  userAgent?: string;
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
const ROOT_POLICY: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

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
  if (ctx.requestedRegion !== undefined) vars['aws:RequestedRegion'] = ctx.requestedRegion;
  if (ctx.principalOrgId !== undefined) vars['aws:PrincipalOrgID'] = ctx.principalOrgId;
  if (ctx.userId !== undefined) vars['aws:userid'] = ctx.userId;
  if (ctx.userAgent !== undefined) vars['aws:UserAgent'] = ctx.userAgent;
  if (ctx.requestedRegion !== undefined) {
    // The AWS path (which knows the region) sends IAM these too: its callers call directly, never via a service.
    vars['aws:PrincipalIsAWSService'] = 'false';
    vars['aws:ViaAWSService'] = 'false';
  }
  for (const [k, v] of Object.entries(ctx.principalTags ?? {})) vars[`aws:PrincipalTag/${k}`] = v;
  for (const [k, v] of Object.entries(ctx.resourceTags ?? {})) vars[`aws:ResourceTag/${k}`] = v;
  for (const [k, v] of Object.entries(ctx.bucketTags ?? {})) vars[`s3vectors:VectorBucketTag/${k}`] = v;
  for (const [k, v] of Object.entries(ctx.requestTags ?? {})) vars[`aws:RequestTag/${k}`] = v;
  const tagKeys = ctx.tagKeys ?? (ctx.requestTags ? Object.keys(ctx.requestTags) : undefined);
  if (tagKeys) vars['aws:TagKeys'] = tagKeys;
  return vars;
}

function parsePolicies(input: AuthorizeInput): { identity: PolicyDocument[]; bucket?: PolicyDocument } {
  const read = (json: string, kind: 'identity' | 'resource'): PolicyDocument => {
    const doc: unknown = JSON.parse(json);
    const problem = policyProblem(doc, kind);
    if (problem) throw new Error(problem);
    return doc as PolicyDocument;
  };
  const identity = input.principal.kind === 'root' ? [ROOT_POLICY] : input.identityPolicies.map((p) => read(p, 'identity'));
  const bucket = input.bucketPolicy !== undefined && input.resourceArn !== '*' ? read(input.bucketPolicy, 'resource') : undefined;
  return { identity, bucket };
}

const resourceAccount = (arn: string, fallback: string) => arn.split(':')[4] || fallback;

/** Condition keys in lower case (IAM compares key names case-insensitively). */
function contextMap(principal: Principal, ctx: AuthorizeContext): Map<string, string | string[]> {
  return new Map(Object.entries(contextVariables(principal, ctx)).map(([k, v]) => [k.toLowerCase(), v]));
}

/** IAM's decision for `principal` doing `action` on `resourceArn`. Never throws for bad policies: it denies. */
export async function authorize(input: AuthorizeInput): Promise<Decision> {
  let policies: ReturnType<typeof parsePolicies>;
  try {
    policies = parsePolicies(input);
  } catch (e) {
    input.onError?.('policy is not a valid policy document', e);
    return 'implicit-deny';
  }
  const { principal } = input;
  const roleArn = simulationArn(principal);
  try {
    return evaluate(
    {
      principal: { arn: principal.arn, accountId: principal.accountId, ...(roleArn !== principal.arn && { roleArn }) },
      action: input.action,
      resource: input.resourceArn,
      resourceAccount: resourceAccount(input.resourceArn, principal.accountId),
      context: contextMap(principal, input.context),
    },
      policies.identity,
      policies.bucket,
    );
  } catch (e) {
    input.onError?.('policy evaluation threw', e);
    return 'implicit-deny';
  }
}

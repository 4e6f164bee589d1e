// IAM's policy evaluation logic for identity policies and one resource policy:
// an explicit Deny anywhere wins; within one account an Allow from either side grants; across
// accounts both sides must allow; otherwise the request is implicitly denied.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
import { evaluateConditions, type ContextValues } from './conditions';
import { compile, matchResource, matchTokens, type VariableLookup } from './pattern';
import type { PolicyDocument, Statement } from './document';
import { asList } from './document';

export type Decision = 'allow' | 'deny' | 'implicit-deny';

export interface RequestPrincipal {
  /** The caller's ARN (a user, a role, an STS assumed-role session, or an account's root). */
  arn: string;
  accountId: string;
  /** For an assumed-role session: its role's ARN, which resource policies may name instead. */
  roleArn?: string;
}

export interface EvaluationRequest {
  principal: RequestPrincipal;
  action: string;
  /** `*` for actions without a resource type. */
  resource: string;
  resourceAccount: string;
  /** Condition keys in lower case. */
  context: ContextValues;
}

const VARIABLES_VERSION = '2012-10-17';

function lookup(context: ContextValues): VariableLookup {
  return (key) => {
    const v = context.get(key.toLowerCase());
    return typeof v === 'string' ? v : undefined; // a multivalued key has no single value to substitute
  };
}

function matchesAction(statement: Statement, action: string): boolean {
  const patterns = statement.Action !== undefined ? statement.Action : statement.NotAction;
  const hit = asList(patterns).some((p) => typeof p === 'string' && matchTokens(compile(p, { wildcards: true })!, action, true));
  return statement.Action !== undefined ? hit : !hit;
}

function matchesResource(statement: Statement, resource: string, variables: VariableLookup | undefined): boolean {
  const inResource = statement.Resource !== undefined;
  if (!inResource && statement.NotResource === undefined) return true; // resource policies may omit it
  let hit = false;
  for (const p of asList(inResource ? statement.Resource : statement.NotResource)) {
    if (typeof p !== 'string') return false;
    if (p === '*') {
      hit = true;
      continue;
    }
    if (resource === '*') continue; // an action without a resource type: no ARN pattern names it
    const tokens = compile(p, { variables, wildcards: true });
    // "If AWS cannot resolve a variable, this might cause the entire statement to be invalid": such
    // a Resource entry matches nothing; such a NotResource entry keeps an Allow from applying, and
    // a Deny too unless the rest of the pattern already rules the resource out.
    if (tokens === undefined) {
      if (inResource) continue;
      if (statement.Effect !== 'Deny' || matchResource(compile(p, { wildcards: true, unknownVariablesAsWildcards: true })!, resource)) return false;
      continue;
    }
    if (matchResource(tokens, resource)) hit = true;
  }
  return inResource ? hit : !hit;
}

/** 'direct': the statement names this principal (or everyone); 'account': it names the principal's account. */
type PrincipalMatch = 'direct' | 'account' | 'none';

function matchOne(entry: string, principal: RequestPrincipal): PrincipalMatch {
  if (entry === '*') return 'direct';
  if (entry === principal.arn || (principal.roleArn !== undefined && entry === principal.roleArn)) return 'direct';
  if (entry === principal.accountId || /^arn:aws[a-z-]*:iam::(\d{12}):root$/.exec(entry)?.[1] === principal.accountId) return 'account';
  return 'none';
}

function matchPrincipalValue(value: unknown, principal: RequestPrincipal): PrincipalMatch {
  if (value === '*') return 'direct';
  if (typeof value !== 'object' || value === null) return 'none';
  // Service, Federated and CanonicalUser principals never make requests here.
  const entries = asList((value as Record<string, unknown>).AWS);
  let best: PrincipalMatch = 'none';
  for (const entry of entries) {
    if (typeof entry !== 'string') continue;
    const m = matchOne(entry, principal);
    if (m === 'direct') return m;
    if (m === 'account') best = m;
  }
  return best;
}

function matchesPrincipal(statement: Statement, principal: RequestPrincipal): PrincipalMatch {
  if (statement.Principal !== undefined) return matchPrincipalValue(statement.Principal, principal);
  if (statement.NotPrincipal !== undefined) return matchPrincipalValue(statement.NotPrincipal, principal) === 'none' ? 'direct' : 'none';
  return 'none';
}

interface PolicyResult {
  deny: boolean;
  allow: PrincipalMatch;
}

function evaluatePolicy(policy: PolicyDocument, request: EvaluationRequest, resourcePolicy: boolean): PolicyResult {
  const variables = policy.Version === VARIABLES_VERSION ? lookup(request.context) : undefined;
  const result: PolicyResult = { deny: false, allow: 'none' };
  for (const statement of asList(policy.Statement) as Statement[]) {
    const who: PrincipalMatch = resourcePolicy ? matchesPrincipal(statement, request.principal) : 'direct';
    if (who === 'none') continue;
    if (!matchesAction(statement, request.action)) continue;
    if (!matchesResource(statement, request.resource, variables)) continue;
    if (!evaluateConditions(statement.Condition, request.context, variables)) continue;
    if (statement.Effect === 'Deny') result.deny = true;
    else if (statement.Effect === 'Allow' && result.allow !== 'direct') result.allow = who;
  }
  return result;
}

/** IAM's decision over already validated documents. */
export function evaluate(request: EvaluationRequest, identityPolicies: PolicyDocument[], resourcePolicy?: PolicyDocument): Decision {
  const identity = identityPolicies.map((p) => evaluatePolicy(p, request, false));
  const resource = resourcePolicy ? evaluatePolicy(resourcePolicy, request, true) : { deny: false, allow: 'none' as PrincipalMatch };
  if (resource.deny || identity.some((r) => r.deny)) return 'deny';
  const identityAllows = identity.some((r) => r.allow !== 'none');
  if (request.principal.accountId === request.resourceAccount) {
    // Naming only the account in a resource policy delegates to the account's own policies.
    return identityAllows || resource.allow === 'direct' ? 'allow' : 'implicit-deny';
  }
  return identityAllows && resource.allow !== 'none' ? 'allow' : 'implicit-deny';
}

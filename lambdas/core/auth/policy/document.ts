// The IAM policy grammar (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html):
// what a well-formed identity or resource policy document is. Each problem names the statement
// (its index, and its Sid when it has one) and the element at fault.
import { conditionValues, parseOperator } from './conditions';

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: Statement | Statement[];
}

export type PolicyKind = 'identity' | 'resource';

export const VERSIONS = ['2012-10-17', '2008-10-17'];
const DOCUMENT_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const PRINCIPAL_TYPES = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);
const ACTION = /^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$/;
const AWS_PRINCIPAL = /^(\d{12}|arn:aws[a-z-]*:iam::\d{12}:(root|user\/.+|role\/.+|federated-user\/.+)|arn:aws[a-z-]*:sts::\d{12}:(assumed-role\/[^/]+\/.+|federated-user\/.+))$/;
// `prefix:name`; the name may hold inner spaces, as tag keys do (`aws:ResourceTag/Cost Center`).
const CONDITION_KEY = /^[A-Za-z0-9-]+:(?!\s)[^\u0000-\u001f\u007f]+(?<!\s)$/;

export const asList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export type Problem = string | undefined;

/** `Statement[2] (Sid "ReadOnly")`: how messages name a statement. */
export function statementName(statement: unknown, index: number): string {
  const sid = isObject(statement) && typeof statement.Sid === 'string' && statement.Sid !== '' ? ` (Sid "${statement.Sid}")` : '';
  return `Statement[${index}]${sid}`;
}

/** A string or a non-empty list of strings. */
function stringList(value: unknown, at: string): Problem {
  const list = asList(value);
  if (list.length === 0 || list.some((v) => typeof v !== 'string' || v === '')) return `${at} must be a non-empty string or a non-empty array of non-empty strings.`;
  return undefined;
}

function checkPrincipal(value: unknown, at: string): Problem {
  if (value === '*') return undefined;
  if (!isObject(value) || Object.keys(value).length === 0) return `${at} must be "*" or an object such as {"AWS": "<account id or ARN>"}.`;
  for (const [type, entries] of Object.entries(value)) {
    if (!PRINCIPAL_TYPES.has(type)) return `${at} has an unknown principal type '${type}' (expected AWS, Service, Federated or CanonicalUser).`;
    const problem = stringList(entries, `${at}.${type}`);
    if (problem) return problem;
    if (type !== 'AWS') continue;
    for (const entry of asList(entries) as string[]) {
      if (entry !== '*' && (!AWS_PRINCIPAL.test(entry) || /[*?]/.test(entry))) return `${at}.AWS has invalid principal '${entry}': use *, an account id or an IAM user, role or root ARN (no wildcards).`;
    }
  }
  return undefined;
}

function checkActions(value: unknown, at: string): Problem {
  const problem = stringList(value, at);
  if (problem) return problem;
  const bad = (asList(value) as string[]).find((a) => a !== '*' && !ACTION.test(a));
  return bad === undefined ? undefined : `${at} has invalid action '${bad}': expected * or service:Action (wildcards * and ? allowed).`;
}

function checkResources(value: unknown, at: string): Problem {
  const problem = stringList(value, at);
  if (problem) return problem;
  const bad = (asList(value) as string[]).find((r) => r !== '*' && !r.startsWith('arn:'));
  return bad === undefined ? undefined : `${at} has invalid resource '${bad}': expected * or an ARN (arn:partition:service:region:account:resource, wildcards * and ? allowed in any part).`;
}

function checkCondition(value: unknown, at: string): Problem {
  if (!isObject(value)) return `${at} must be an object of condition operators.`;
  for (const [name, block] of Object.entries(value)) {
    const operator = parseOperator(name);
    if (!operator) return `${at} has invalid Condition operator '${name}'.`;
    if (!isObject(block) || Object.keys(block).length === 0) return `${at}.${name} must be an object of condition keys.`;
    for (const [key, raw] of Object.entries(block)) {
      if (!CONDITION_KEY.test(key)) return `${at}.${name} has invalid condition key '${key}'.`;
      const values = conditionValues(raw);
      if (!values) return `${at}.${name}.${key} must be a string, number or boolean, or a non-empty array of them.`;
      if (operator.base === 'null' && values.some((v) => !/^(true|false)$/i.test(v))) return `${at}.${name}.${key} must be true or false.`;
    }
  }
  return undefined;
}

function checkStatement(statement: unknown, index: number, kind: PolicyKind): Problem {
  const at = statementName(statement, index);
  if (!isObject(statement)) return `${at} must be an object.`;
  const unknown = Object.keys(statement).find((k) => !STATEMENT_KEYS.has(k));
  if (unknown) return `${at} has an unknown element '${unknown}'.`;
  if (statement.Sid !== undefined && typeof statement.Sid !== 'string') return `${at}.Sid must be a string.`;
  if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') return `${at}.Effect must be "Allow" or "Deny".`;
  if (statement.Action !== undefined && statement.NotAction !== undefined) return `${at} has both Action and NotAction; use one.`;
  if (statement.Action === undefined && statement.NotAction === undefined) return `${at}: Action or NotAction is required.`;
  if (statement.Resource !== undefined && statement.NotResource !== undefined) return `${at} has both Resource and NotResource; use one.`;
  if (statement.Resource === undefined && statement.NotResource === undefined) return `${at}: Resource or NotResource is required.`;
  if (statement.Principal !== undefined && statement.NotPrincipal !== undefined) return `${at} has both Principal and NotPrincipal; use one.`;
  const hasPrincipal = statement.Principal !== undefined || statement.NotPrincipal !== undefined;
  if (kind === 'identity' && hasPrincipal) return `${at}: an identity policy cannot have a ${statement.Principal !== undefined ? 'Principal' : 'NotPrincipal'} element.`;
  if (kind === 'resource' && !hasPrincipal) return `${at}: Principal or NotPrincipal is required in a resource policy.`;
  const principal = statement.Principal !== undefined ? 'Principal' : 'NotPrincipal';
  const action = statement.Action !== undefined ? 'Action' : 'NotAction';
  const resource = statement.Resource !== undefined ? 'Resource' : 'NotResource';
  return (
    (hasPrincipal ? checkPrincipal(statement[principal], `${at}.${principal}`) : undefined) ??
    checkActions(statement[action], `${at}.${action}`) ??
    checkResources(statement[resource], `${at}.${resource}`) ??
    (statement.Condition !== undefined ? checkCondition(statement.Condition, `${at}.Condition`) : undefined)
  );
}

/** The first grammar problem of `doc` as a policy of `kind`; undefined when it is well formed. */
export function policyProblem(doc: unknown, kind: PolicyKind): Problem {
  if (!isObject(doc)) return 'Policy must be a JSON object.';
  const unknown = Object.keys(doc).find((k) => !DOCUMENT_KEYS.has(k));
  if (unknown) return `Policy has an unknown element '${unknown}' (expected Version, Id and Statement).`;
  if (!VERSIONS.includes(doc.Version as string)) return `Version must be one of ${VERSIONS.join(', ')}.`;
  if (doc.Id !== undefined && typeof doc.Id !== 'string') return 'Id must be a string.';
  const statements = asList(doc.Statement);
  if (statements.length === 0) return 'Statement is required and must not be empty.';
  for (let i = 0; i < statements.length; i++) {
    const problem = checkStatement(statements[i], i, kind);
    if (problem) return problem;
  }
  return undefined;
}

// Accepts only IAM resource policies that can govern a vector bucket. @cloud-copilot/iam-policy
// checks the grammar (keys, Effect, Action/NotAction exclusivity, types); it tolerates a missing
// Version, Principal or Resource and unknown condition operators, so those rules are added here.
import { validateIdentityPolicy, validateResourcePolicy } from '@cloud-copilot/iam-policy';
import { ValidationError } from '../errors';
import { S3VECTORS_ACTIONS } from './required-actions';

const VERSIONS = ['2012-10-17', '2008-10-17'];
const OPERATORS = new Set(
  [
    'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
    'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan',
    'NumericGreaterThanEquals', 'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan',
    'DateGreaterThanEquals', 'Bool', 'BinaryEquals', 'IpAddress', 'NotIpAddress', 'ArnEquals', 'ArnLike', 'ArnNotEquals',
    'ArnNotLike',
  ].map((o) => o.toLowerCase()),
);

type Problem = string | undefined;

const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const wildcard = (pattern: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');

function checkOperator(op: string): Problem {
  const base = op.replace(/^(ForAnyValue|ForAllValues):/i, '').replace(/IfExists$/i, '');
  if (op.toLowerCase() === 'null') return undefined;
  return OPERATORS.has(base.toLowerCase()) ? undefined : `Invalid Condition operator '${op}'.`;
}

function checkConditions(statement: Record<string, unknown>, at: string): Problem {
  if (statement.Condition === undefined) return undefined;
  if (!isObject(statement.Condition)) return `${at}.Condition must be an object.`;
  for (const op of Object.keys(statement.Condition)) {
    const problem = checkOperator(op);
    if (problem) return `${at}.Condition: ${problem}`;
  }
  return undefined;
}

function checkActions(statement: Record<string, unknown>, at: string): Problem {
  for (const action of list(statement.Action ?? statement.NotAction)) {
    if (typeof action !== 'string') return `${at}: Action must be a string or an array of strings.`;
    if (action === '*') continue;
    if (!/^s3vectors:/i.test(action)) return `${at}: Policy has invalid action '${action}': only s3vectors: actions apply to a vector bucket.`;
    const re = wildcard(action);
    if (!S3VECTORS_ACTIONS.some((a) => re.test(a))) return `${at}: Policy has invalid action '${action}'.`;
  }
  return undefined;
}

function checkResources(statement: Record<string, unknown>, at: string, bucketArn: string): Problem {
  const resources = list(statement.Resource ?? statement.NotResource);
  if (resources.length === 0) return `${at}: Resource or NotResource is required.`;
  for (const resource of resources) {
    if (typeof resource !== 'string') return `${at}: Resource must be a string or an array of strings.`;
    // A bucket policy only ever governs its own bucket, so `*` means "this bucket and its indexes";
    // other wildcards may only narrow within it: the ARN itself, or anything below `bucket/<name>/`.
    if (resource !== '*' && resource !== bucketArn && !resource.startsWith(`${bucketArn}/`)) {
      return `${at}: Policy has invalid resource '${resource}': it must be *, ${bucketArn} or an index inside it.`;
    }
  }
  return undefined;
}

function checkStatement(statement: unknown, at: string, bucketArn: string): Problem {
  if (!isObject(statement)) return `${at} must be an object.`;
  if (statement.Principal === undefined && statement.NotPrincipal === undefined) {
    return `${at}: Principal is required in a bucket policy.`;
  }
  return checkActions(statement, at) ?? checkResources(statement, at, bucketArn) ?? checkConditions(statement, at);
}

function parse(policyJson: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(policyJson);
  } catch {
    throw ValidationError.field('/policy', 'Policy is not valid JSON.');
  }
  if (!isObject(doc)) throw ValidationError.field('/policy', 'Policy must be a JSON object.');
  return doc;
}

/** The library's first finding; it throws on some shapes it does not expect, which are malformed too. */
function libraryProblem(validate: () => { path: string; message: string }[]): Problem {
  let errors: { path: string; message: string }[];
  try {
    errors = validate();
  } catch {
    return 'Policy is not a well-formed IAM policy document (check the types of Statement, Principal, Action, Resource and Condition).';
  }
  return errors.length ? `${errors[0].path ? `${errors[0].path}: ` : ''}${errors[0].message}` : undefined;
}

function documentProblem(doc: Record<string, unknown>): Problem {
  if (!VERSIONS.includes(doc.Version as string)) return `Version must be one of ${VERSIONS.join(', ')}.`;
  const statements = list(doc.Statement);
  if (statements.length === 0) return 'Statement is required and must not be empty.';
  const notObject = statements.findIndex((statement) => !isObject(statement));
  if (notObject !== -1) return `Statement[${notObject}] must be an object.`;
  return undefined;
}

/** Throws a ValidationError naming the first problem unless `policyJson` is a valid bucket policy for `bucketArn`. */
export function checkBucketPolicy(policyJson: string, bucketArn: string): void {
  const doc = parse(policyJson);
  const problem =
    documentProblem(doc) ??
    libraryProblem(() => validateResourcePolicy(doc)) ??
    list(doc.Statement)
      .map((s, i) => checkStatement(s, `Statement[${i}]`, bucketArn))
      .find((p) => p !== undefined);
  if (problem) throw ValidationError.field('/policy', problem);
}

function identityStatementProblem(statement: Record<string, unknown>, at: string): Problem {
  if (statement.Resource === undefined && statement.NotResource === undefined) return `${at}: Resource or NotResource is required.`;
  return checkConditions(statement, at);
}

/** Throws a ValidationError unless `policyJson` is a valid identity policy (for `npm run iam`). */
export function checkIdentityPolicy(policyJson: string): void {
  const doc = parse(policyJson);
  const problem =
    documentProblem(doc) ??
    libraryProblem(() => validateIdentityPolicy(doc)) ??
    list(doc.Statement)
      .map((s, i) => (isObject(s) ? identityStatementProblem(s, `Statement[${i}]`) : `Statement[${i}] must be an object.`))
      .find((p) => p !== undefined);
  if (problem) throw ValidationError.field('/policy', problem);
}

// Accepts the IAM resource policies that can govern a vector bucket, and identity policies for
// `npm run iam`: the IAM grammar (./policy/document), then what only a bucket policy needs —
// s3vectors actions, and resources that are vector bucket or index ARNs (see VECTOR_RESOURCE).
import { ValidationError } from '../errors';
import { canMatchBucket } from './policy/bucket-scope';
import { asList, isObject, policyProblem, statementName, type Problem } from './policy/document';
import { compile, matchTokens } from './policy/pattern';
import { S3VECTORS_ACTIONS } from './required-actions';

function checkActions(statement: Record<string, unknown>, at: string): Problem {
  const element = statement.Action !== undefined ? 'Action' : 'NotAction';
  for (const action of asList(statement[element]) as string[]) {
    if (action === '*') continue;
    if (!/^s3vectors:/i.test(action)) return `${at}.${element}: Policy has invalid action '${action}': only s3vectors: actions apply to a vector bucket.`;
    const tokens = compile(action, { wildcards: true })!;
    if (!S3VECTORS_ACTIONS.some((a) => matchTokens(tokens, a, true))) return `${at}.${element}: Policy has invalid action '${action}': it matches no s3vectors action.`;
  }
  return undefined;
}

// Amazon S3 Vectors accepts a Resource naming another vector bucket, region or account: moto's
// tests/test_s3vectors/test_s3vector_policies.py (test_put_vector_bucket_policy_by_name/_by_arn,
// test_delete_vector_bucket_policy_by_name/_by_arn, run against AWS) attach the documentation's
// `arn:aws:s3vectors:aws-region:<account>:bucket/amzn-s3-demo-vector-bucket` to a bucket of another
// name. Such a statement governs nothing here. What is no vector bucket or index ARN is refused.
const VECTOR_RESOURCE = /^arn:[^:]+:s3vectors:[^:]*:[^:]*:bucket\/[^/]+(\/index\/[^/]+|\/\*)?$/;

function checkResources(statement: Record<string, unknown>, at: string, bucketArn: string): Problem {
  const element = statement.Resource !== undefined ? 'Resource' : 'NotResource';
  for (const resource of asList(statement[element]) as string[]) {
    // A bucket policy only ever governs its own bucket, so `*` means "this bucket and its indexes".
    if (!canMatchBucket(resource, bucketArn) && !VECTOR_RESOURCE.test(resource)) {
      return `${at}.${element}: Policy has invalid resource '${resource}': it can match neither ${bucketArn} nor an index in it.`;
    }
  }
  return undefined;
}

function parse(policyJson: string): unknown {
  try {
    return JSON.parse(policyJson);
  } catch {
    throw ValidationError.field('/policy', 'Policy is not valid JSON.');
  }
}

/** Throws a ValidationError naming the first problem unless `policyJson` is a valid bucket policy for `bucketArn`. */
export function checkBucketPolicy(policyJson: string, bucketArn: string): void {
  const doc = parse(policyJson);
  const problem =
    policyProblem(doc, 'resource') ??
    asList((doc as Record<string, unknown>).Statement)
      .map((s, i) => (isObject(s) ? (checkActions(s, statementName(s, i)) ?? checkResources(s, statementName(s, i), bucketArn)) : undefined))
      .find((p) => p !== undefined);
  if (problem) throw ValidationError.field('/policy', problem);
}

/** Throws a ValidationError unless `policyJson` is a valid identity policy (for `npm run iam`). */
export function checkIdentityPolicy(policyJson: string): void {
  const problem = policyProblem(parse(policyJson), 'identity');
  if (problem) throw ValidationError.field('/policy', problem);
}

import { checkBucketPolicy, checkIdentityPolicy } from '../../lambdas/core/auth/bucket-policy';
import { ValidationError } from '../../lambdas/core/errors';

const B = 'arn:aws:s3vectors:us-east-1:123456789012:bucket/media-embeddings';
const stmt = (over: Record<string, unknown> = {}) => ({
  Effect: 'Allow',
  Principal: { AWS: 'arn:aws:iam::123456789012:root' },
  Action: 's3vectors:QueryVectors',
  Resource: `${B}/index/*`,
  ...over,
});
const policy = (...s: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: s });

function problem(json: string, check = (j: string) => checkBucketPolicy(j, B)): string {
  try {
    check(json);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).fieldList[0].path).toBe('/policy');
    return (e as ValidationError).message;
  }
  throw new Error('accepted');
}

describe('checkBucketPolicy', () => {
  it.each([
    ['the boto3-wire.md example', policy(stmt())],
    ['the bucket itself, wildcards and arrays', policy(stmt({ Action: ['s3vectors:Get*', 's3vectors:*'], Resource: [B, `${B}/*`] }))],
    ['Deny with NotAction and NotPrincipal', policy(stmt({ Effect: 'Deny', Principal: undefined, NotPrincipal: { AWS: 'arn:aws:iam::123456789012:user/a' }, Action: undefined, NotAction: 's3vectors:Get*' }))],
    ['conditions', policy(stmt({ Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' }, 'ForAnyValue:StringLikeIfExists': { 'aws:TagKeys': ['a*'] }, Null: { 'aws:ResourceTag/x': 'true' } } }))],
    ['Resource * (a bucket policy governs only its bucket)', policy(stmt({ Resource: '*' }))],
    ['a single Statement object and Principal *', JSON.stringify({ Version: '2012-10-17', Statement: stmt({ Principal: '*' }) })],
    // IAM accepts wildcards in any ARN part; these can all match this bucket or its indexes.
    ['wildcard region and account on the indexes', policy(stmt({ Resource: 'arn:aws:s3vectors:*:*:bucket/media-embeddings/*' }))],
    ['wildcard account on the bucket', policy(stmt({ Resource: 'arn:aws:s3vectors:us-east-1:*:bucket/media-embeddings' }))],
    ['? in the region and a bucket-name prefix', policy(stmt({ Resource: 'arn:aws:s3vectors:us-east-?:123456789012:bucket/media-*' }))],
    ['a bucket-name prefix wildcard (it matches the bucket itself)', policy(stmt({ Resource: `${B}*` }))],
    ['every s3vectors resource', policy(stmt({ Resource: 'arn:aws:s3vectors:*:*:*' }))],
    ['a wildcard service part', policy(stmt({ Resource: 'arn:aws:s3vec*:us-east-1:123456789012:bucket/media-embeddings/index/*' }))],
    ['a NotResource with wildcards', policy(stmt({ Resource: undefined, NotResource: 'arn:aws:s3vectors:*:*:bucket/media-embeddings/index/secret' }))],
    ['a policy variable in the index name', policy(stmt({ Resource: `${B}/index/\${aws:username}` }))],
    // AWS accepts vector ARNs of other buckets, regions and accounts (they govern nothing here):
    // moto tests/test_s3vectors/test_s3vector_policies.py::test_put_vector_bucket_policy_by_name, run against AWS.
    ['the documentation example ARN (aws-region, another bucket), as AWS does', policy(stmt({ Resource: 'arn:aws:s3vectors:aws-region:123456789012:bucket/amzn-s3-demo-vector-bucket' }))],
    ['a resource in another bucket', policy(stmt({ Resource: 'arn:aws:s3vectors:us-east-1:123456789012:bucket/other/*' }))],
    ['another region, even with wildcards', policy(stmt({ Resource: 'arn:aws:s3vectors:us-west-2:*:bucket/media-embeddings/*' }))],
    ['another account', policy(stmt({ Resource: 'arn:aws:s3vectors:*:999999999999:bucket/*' }))],
    ['another bucket by wildcard', policy(stmt({ Resource: 'arn:aws:s3vectors:*:*:bucket/other-*' }))],
    ['an index of another bucket', policy(stmt({ Resource: 'arn:aws:s3vectors:us-east-1:123456789012:bucket/other/index/idx' }))],
  ])('accepts %s', (_, json) => {
    expect(() => checkBucketPolicy(json, B)).not.toThrow();
  });

  it.each([
    ['not JSON', '{', /not valid JSON/],
    ['not an object', '[1]', /must be a JSON object/],
    ['JSON null', 'null', /must be a JSON object/],
    ['no Version', JSON.stringify({ Statement: [stmt()] }), /Version/],
    ['no Statement', JSON.stringify({ Version: '2012-10-17' }), /Statement/],
    ['empty Statement', policy(), /Statement/],
    ['bad Effect', policy(stmt({ Effect: 'Alow' })), /Effect/],
    ['no Principal', policy(stmt({ Principal: undefined })), /Principal is required/],
    ['no Action', policy(stmt({ Action: undefined })), /Action/],
    ['Action and NotAction', policy(stmt({ NotAction: 's3vectors:GetVectors' })), /NotAction/],
    ['an S3 action', policy(stmt({ Action: 's3:GetObject' })), /invalid action 's3:GetObject'/],
    ['an unknown s3vectors action', policy(stmt({ Action: 's3vectors:QueryVector' })), /invalid action 's3vectors:QueryVector'/],
    ['no Resource', policy(stmt({ Resource: undefined })), /Resource/],
    ['an index path that is not an index', policy(stmt({ Resource: 'arn:aws:s3vectors:us-west-2:*:bucket/other/vector/x' })), /Statement\[0\]\.Resource: Policy has invalid resource 'arn:aws:s3vectors:us-west-2/],
    ['another service', policy(stmt({ Resource: 'arn:aws:s3:::media-embeddings/*' })), /invalid resource/],
    ['a path that is not an index', policy(stmt({ Resource: `${B}/vector/*` })), /invalid resource/],
    ['not an ARN', policy(stmt({ Resource: 'bucket/media-embeddings' })), /Statement\[0\]\.Resource has invalid resource/],
    ['a wildcard principal ARN', policy(stmt({ Principal: { AWS: 'arn:aws:iam::123456789012:user/*' } })), /Statement\[0\]\.Principal\.AWS has invalid principal/],
    ['Null with a non-boolean value', policy(stmt({ Condition: { Null: { 'aws:username': 'maybe' } } })), /Null\.aws:username must be true or false/],
    ['the statement named by its Sid', policy(stmt(), stmt({ Sid: 'Second', Effect: 'Maybe' })), /Statement\[1\] \(Sid "Second"\)\.Effect/],
    ['an unknown condition operator', policy(stmt({ Condition: { StringEqualz: { 'aws:username': 'a' } } })), /Condition operator 'StringEqualz'/],
    ['an unknown top-level key', JSON.stringify({ Version: '2012-10-17', Statement: [stmt()], Foo: 1 }), /Foo/],
  ])('rejects %s', (_, json, message) => {
    expect(problem(json)).toMatch(message);
  });
});

describe('checkIdentityPolicy', () => {
  it('accepts an administrator policy', () => {
    expect(() => checkIdentityPolicy(policy({ Effect: 'Allow', Action: '*', Resource: '*' }))).not.toThrow();
  });
  it('rejects a Principal, a missing Resource and bad JSON', () => {
    expect(problem(policy(stmt()), checkIdentityPolicy)).toMatch(/Principal/);
    expect(problem(policy({ Effect: 'Allow', Action: '*' }), checkIdentityPolicy)).toMatch(/Resource/);
    expect(problem('x', checkIdentityPolicy)).toMatch(/JSON/);
  });
});

// The bucket policy on the AWS path sees the request context IAM's simulator gets
// (aws:RequestedRegion, aws:PrincipalTag/*, aws:PrincipalOrgID, …), and an AccessDenied of the
// function's own role from IAM is a clear, non-retryable error rather than a 503.
import type { AwsAuthOptions } from '../../lambdas/runtime/aws-auth';
import { ACCOUNT, REGION, startTestService, type TestService } from '../helpers/service';
import { alice, bucketArn, createBucket, gatewayPipeline, logStub, reader, stubIam } from './gateway-harness';

let t: TestService;
beforeAll(async () => {
  t = await startTestService({ auth: 'off' });
});
afterAll(async () => {
  await t.close();
});

const pipeline = (options: AwsAuthOptions) => gatewayPipeline(() => t.service.deps, { shared: false, region: REGION, ...options });

/** A bucket whose policy alone allows GetVectorBucket to anyone under `condition`. */
async function bucketAllowing(condition: object): Promise<string> {
  return createBucket(pipeline({ iam: stubIam(() => 'implicitDeny') }), (b) => ({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3vectors:GetVectorBucket', Resource: bucketArn(b), Condition: condition }],
  }));
}

describe('bucket policy conditions on the AWS path', () => {
  // IAM grants nothing: whatever is allowed is allowed by the bucket policy's condition.
  const noIdentityAllow = () => stubIam(() => 'implicitDeny', { tags: { alice: { team: 'vectors' }, S3VectorsReader: { team: 'search' } } });

  it('aws:RequestedRegion: the deployment’s region matches, another does not', async () => {
    const name = await bucketAllowing({ StringEquals: { 'aws:RequestedRegion': REGION } });
    expect((await pipeline({ iam: noIdentityAllow() })('GetVectorBucket', { vectorBucketName: name }, alice)).statusCode).toBe(200);
    const elsewhere = await pipeline({ iam: noIdentityAllow(), region: 'eu-west-3' })('GetVectorBucket', { vectorBucketName: name }, alice);
    expect({ status: elsewhere.statusCode, type: elsewhere.errorType }).toEqual({ status: 403, type: 'AccessDeniedException' });
  });

  it('a Deny on another region (Control Tower style) in a bucket policy lets in-region calls through', async () => {
    const name = await createBucket(pipeline({ iam: stubIam(() => 'implicitDeny') }), (b) => ({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 's3vectors:GetVectorBucket', Resource: bucketArn(b) },
        { Effect: 'Deny', Principal: '*', Action: 's3vectors:*', Resource: bucketArn(b), Condition: { StringNotEquals: { 'aws:RequestedRegion': [REGION] } } },
      ],
    }));
    expect((await pipeline({ iam: noIdentityAllow() })('GetVectorBucket', { vectorBucketName: name }, alice)).statusCode).toBe(200);
  });

  it('aws:PrincipalTag/*: the user’s and the role’s IAM tags', async () => {
    const name = await bucketAllowing({ StringEquals: { 'aws:PrincipalTag/team': 'vectors' } });
    const iam = noIdentityAllow();
    expect((await pipeline({ iam })('GetVectorBucket', { vectorBucketName: name }, alice)).statusCode).toBe(200);
    expect(iam.tagCalls).toEqual(['alice']);
    // The role session's role is tagged team=search: not allowed.
    expect((await pipeline({ iam: noIdentityAllow() })('GetVectorBucket', { vectorBucketName: name }, reader)).statusCode).toBe(403);
    const search = await bucketAllowing({ StringEquals: { 'aws:PrincipalTag/team': 'search' } });
    expect((await pipeline({ iam: noIdentityAllow() })('GetVectorBucket', { vectorBucketName: search }, reader)).statusCode).toBe(200);
  });

  it('aws:PrincipalOrgID and aws:PrincipalType', async () => {
    const name = await bucketAllowing({ StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5', 'aws:PrincipalType': 'User' } });
    expect((await pipeline({ iam: noIdentityAllow() })('GetVectorBucket', { vectorBucketName: name }, { ...alice, principalOrgId: 'o-a1b2c3d4e5' })).statusCode).toBe(200);
    expect((await pipeline({ iam: noIdentityAllow() })('GetVectorBucket', { vectorBucketName: name }, { ...alice, principalOrgId: 'o-zzzzzzzzzz' })).statusCode).toBe(403);
    expect((await pipeline({ iam: noIdentityAllow() })('GetVectorBucket', { vectorBucketName: name }, alice)).statusCode).toBe(403);
  });

  it('a policy that names no aws:PrincipalTag costs no tag lookup before its explicit Deny', async () => {
    const iam = stubIam(() => 'allowed');
    const call = pipeline({ iam });
    const name = await createBucket(call, (b) => ({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3vectors:GetVectorBucket', Resource: bucketArn(b), Condition: { StringEquals: { 'aws:RequestedRegion': REGION } } }],
    }));
    expect((await call('GetVectorBucket', { vectorBucketName: name }, alice)).statusCode).toBe(403);
    expect(iam.tagCalls).toEqual([]);
    expect(iam.calls).toHaveLength(0);
  });
});

describe('the function role lacks IAM permissions', () => {
  const accessDenied = (action: string) =>
    Object.assign(
      new Error(`User: arn:aws:sts::${ACCOUNT}:assumed-role/OpenS3Vectors-GetVectorBucketFunctionRole/fn is not authorized to perform: ${action} on resource: user alice`),
      { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } },
    );

  it('AccessDenied from SimulatePrincipalPolicy: 403 AccessDeniedException saying the deployment’s role lacks it (not a retryable 503)', async () => {
    const name = await createBucket(pipeline({ iam: stubIam(() => 'implicitDeny') }));
    const res = await pipeline({ iam: stubIam(() => accessDenied('iam:SimulatePrincipalPolicy')), log: logStub() })('GetVectorBucket', { vectorBucketName: name }, alice);
    expect({ status: res.statusCode, type: res.errorType }).toEqual({ status: 403, type: 'AccessDeniedException' });
    expect(res.json.message).toMatch(/function role is not allowed iam:SimulatePrincipalPolicy/);
    expect(res.json.message).toMatch(/misconfigured/);
  });

  it('AccessDenied on a tag lookup names that action', async () => {
    const name = await createBucket(pipeline({ iam: stubIam(() => 'implicitDeny') }));
    const res = await pipeline({ iam: stubIam(() => 'allowed', { tagsError: accessDenied('iam:ListUserTags') }), log: logStub() })('GetVectorBucket', { vectorBucketName: name }, alice);
    expect({ status: res.statusCode, type: res.errorType }).toEqual({ status: 403, type: 'AccessDeniedException' });
    expect(res.json.message).toMatch(/not allowed iam:ListUserTags/);
  });

  it('other 403s of the role’s own credentials stay retryable', async () => {
    const name = await createBucket(pipeline({ iam: stubIam(() => 'implicitDeny') }));
    const expired = Object.assign(new Error('The security token included in the request is expired'), { name: 'ExpiredToken', $metadata: { httpStatusCode: 403 } });
    const res = await pipeline({ iam: stubIam(() => expired), log: logStub() })('GetVectorBucket', { vectorBucketName: name }, alice);
    expect({ status: res.statusCode, type: res.errorType }).toEqual({ status: 503, type: 'ServiceUnavailableException' });
  });
});

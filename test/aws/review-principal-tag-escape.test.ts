// Review (review-aws): the AWS path reads the principal's tags only when the bucket policy's text
// names aws:PrincipalTag. JSON lets a policy spell the slash as `\/` (PHP's json_encode and others
// do by default) or any character as \uXXXX: the parsed policy names the key, the raw text does not
// match a plain regex, the tags are never read, and a Deny conditioned on a tag never applies.
import type { AwsAuthOptions } from '../../lambdas/runtime/aws-auth';
import { REGION, startTestService, type TestService } from '../helpers/service';
import { alice, bucketArn, createBucket, gatewayPipeline, root, stubIam } from './gateway-harness';

let t: TestService;
beforeAll(async () => {
  t = await startTestService({ auth: 'off' });
});
afterAll(async () => {
  await t.close();
});

const pipeline = (options: AwsAuthOptions) => gatewayPipeline(() => t.service.deps, { shared: false, region: REGION, ...options });

describe('a bucket policy naming aws:PrincipalTag through JSON escapes', () => {
  // alice's identity policy allows everything; her tag says she is a contractor.
  const iam = () => stubIam(() => 'allowed', { tags: { alice: { team: 'contractors' } } });
  const denyContractors = (b: string, key: string) =>
    `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3vectors:GetVectorBucket","Resource":"${bucketArn(b).replace(/\//g, '\\/')}","Condition":{"StringEquals":{"${key}":"contractors"}}}]}`;

  it.each([
    ['plain', 'aws:PrincipalTag/team'],
    ['escaped slash', 'aws:PrincipalTag\\/team'],
    ['unicode escape', 'aws:Principal\\u0054ag/team'],
  ])('%s: the Deny on the tag applies (403)', async (_label, key) => {
    const call = pipeline({ iam: iam() });
    const name = await createBucket(call);
    const put = await call('PutVectorBucketPolicy', { vectorBucketName: name, policy: denyContractors(name, key) }, root);
    expect(put.statusCode).toBe(200);
    // The stored policy is the one IAM would parse: it names aws:PrincipalTag/team.
    expect(JSON.stringify(JSON.parse(denyContractors(name, key)))).toContain('aws:PrincipalTag/team');
    const res = await call('GetVectorBucket', { vectorBucketName: name }, alice);
    expect({ status: res.statusCode, type: res.errorType }).toEqual({ status: 403, type: 'AccessDeniedException' });
  });
});

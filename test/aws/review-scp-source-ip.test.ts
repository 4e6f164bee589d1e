// Review (review-aws): the IAM decision cache leaves aws:SourceIp out of its key when the caller's
// own policies do not name it (GetContextKeysForPrincipalPolicy). That API does not see the
// organization's SCPs (nor RCPs), and "deny outside the corporate network" (aws:SourceIp) is one
// of the most common SCPs. IAM's simulation evaluates the SCP with the source IP we send and
// denies the second caller; the cache answers it with the first caller's Allow, for up to
// S3V_AUTH_CACHE_SECONDS and in every function (shared cache). README documents the opt-in
// S3V_AUTH_CACHE_PER_SOURCE_IP; the source IP is now in the key by default (=0 opts out).
import type { IamSimulator, SimulatePrincipalPolicyInput } from '../../lambdas/adapters/iam-simulator';

import type { AwsAuthOptions } from '../../lambdas/runtime/aws-auth';
import { REGION, startTestService, type TestService } from '../helpers/service';
import { alice, contextOf, createBucket, gatewayPipeline, stubIam } from './gateway-harness';

let t: TestService;
let bucketName: string;
beforeAll(async () => {
  t = await startTestService({ auth: 'off' });
  bucketName = await createBucket(pipeline({ iam: stubIam(() => 'implicitDeny') }));
});
afterAll(async () => {
  await t.close();
});

const pipeline = (options: AwsAuthOptions) => gatewayPipeline(() => t.service.deps, { shared: false, region: REGION, ...options });

/** IAM as an account in an organization: the identity policy allows, the SCP conditions on the source IP. */
function orgIam(): IamSimulator {
  const base = stubIam(() => 'allowed', { contextKeys: ['s3vectors:*'] });
  const scpAllows = (input: SimulatePrincipalPolicyInput) => (contextOf(input)['aws:SourceIp']?.[1][0] ?? '').startsWith('203.0.113.');
  const iam: IamSimulator = {
    ...base,
    simulatePrincipalPolicy: async (input) => {
      const allowed = scpAllows(input);
      return {
        EvaluationResults: input.ActionNames.map((a) => ({
          EvalActionName: a,
          EvalDecision: allowed ? 'allowed' : 'explicitDeny',
          OrganizationsDecisionDetail: { AllowedByOrganizations: allowed },
        })),
      };
    },
  };
  return iam;
}

async function insideThenOutside(options: Partial<AwsAuthOptions>) {
  const call = pipeline({ iam: orgIam(), ...options });
  const inside = await call('GetVectorBucket', { vectorBucketName: bucketName }, { ...alice, sourceIp: '203.0.113.7' });
  expect(inside.statusCode).toBe(200);
  const outside = await call('GetVectorBucket', { vectorBucketName: bucketName }, { ...alice, sourceIp: '198.51.100.20' });
  expect({ status: outside.statusCode, type: outside.errorType }).toEqual({ status: 403, type: 'AccessDeniedException' });
}

it('an SCP that denies outside 203.0.113.0/24 denies a caller from elsewhere, even after an allowed call (default settings)', async () => {
  await insideThenOutside({});
});

it('with cachePerSourceIp set explicitly it does too', async () => {
  await insideThenOutside({ cachePerSourceIp: true });
});

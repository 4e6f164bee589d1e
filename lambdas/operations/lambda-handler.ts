// The one place every operation's Lambda entry point is built. Each file next to this one is a
// two-line module (`export const handler = lambdaHandler('PutVectors')`) so esbuild makes one bundle
// per function; the pipeline steps (authentication, authorization) are wired here, once, for all.
import { awsAuthSteps } from '../runtime/aws-auth';
import { depsFromEnv } from '../runtime/deps';
import { makeHandler } from '../runtime/pipeline';

// API Gateway has verified the SigV4 signature; these steps take the caller from the request
// context and decide with IAM (SimulatePrincipalPolicy) plus the bucket policy.
const authSteps = awsAuthSteps();

export function lambdaHandler(operationName: string) {
  return makeHandler(operationName, depsFromEnv, authSteps);
}

// The one place every operation's Lambda entry point is built. Each file next to this one is a
// two-line module (`export const handler = lambdaHandler('PutVectors')`) so esbuild makes one bundle
// per function; the pipeline steps (authentication, authorization) are wired here, once, for all.
import { awsAuthSteps } from '../runtime/aws-auth';
import { withDeadline } from '../runtime/deadline';
import { depsFromEnv } from '../runtime/deps';
import { makeHandler } from '../runtime/pipeline';

// API Gateway has verified the SigV4 signature; these steps take the caller from the request
// context and decide with IAM (SimulatePrincipalPolicy) plus the bucket policy.
const authSteps = awsAuthSteps();

export function lambdaHandler(operationName: string) {
  // A modeled RequestTimeoutException before API Gateway's 29 s or the function's timeout.
  const handler = makeHandler(operationName, depsFromEnv, authSteps);
  return withDeadline((event, context) => handler(event, context as never), operationName);
}

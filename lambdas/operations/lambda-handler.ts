// The one place every operation's Lambda entry point is built. Each file next to this one is a
// two-line module (`export const handler = lambdaHandler('PutVectors')`) so esbuild makes one bundle
// per function; the pipeline steps (authentication, authorization) are wired here, once, for all.
import { depsFromEnv } from '../runtime/deps';
import { makeHandler } from '../runtime/pipeline';

export function lambdaHandler(operationName: string) {
  return makeHandler(operationName, depsFromEnv);
}

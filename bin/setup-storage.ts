// `npm run setup-storage`: prepares an external backend for the server, from the same variables the
// server reads (S3V_STORAGE_URI, S3V_STORAGE_OPTIONS, S3V_DYNAMODB_ENDPOINT, S3V_CATALOG_TABLE,
// S3V_SECRET_KEY_FILE): creates the catalog and commit tables when missing, checks the bucket takes
// a commit, creates the shared secret key file. Idempotent. Exit 0 done, 5 backend unusable, 2 usage.
import { serviceConfigFromEnv } from '../lambdas/core/config';
import { BackendError, backendFromEnv } from '../lambdas/cluster/config';
import { setupBackend } from '../lambdas/cluster/backend';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log('Usage: S3V_STORAGE_URI=s3+ddb://BUCKET/PREFIX?ddbTableName=COMMITS S3V_DYNAMODB_ENDPOINT=http://… npm run setup-storage\n(see "Running on your own servers" in the README)');
    return;
  }
  const backend = backendFromEnv(process.env, serviceConfigFromEnv().region);
  if (!backend) {
    console.error('error: nothing to set up: S3V_STORAGE_URI and S3V_DYNAMODB_ENDPOINT / S3V_CATALOG_TABLE are unset (the default, local disk and the embedded catalog, needs no setup)');
    process.exit(2);
  }
  const steps = await setupBackend(backend);
  for (const step of steps) console.log(`${step.what}: ${step.outcome}`);
  if (backend.catalog && !backend.secretKeyFile) console.log('note: set S3V_SECRET_KEY_FILE (a path; created here if missing) before starting servers on this catalog');
  console.log('storage is set up');
}

main().catch((error) => {
  if (error instanceof BackendError) console.error(error.message);
  else console.error(`error: ${String(error?.message ?? error).split('\n')[0]}`);
  process.exit(error instanceof BackendError ? 5 : 1);
});

import type { Deps } from '../deps';
import { Messages, NotFoundError, ServiceQuotaExceededError, ValidationError } from '../errors';
import { findBucket } from '../lookup';
import type { BucketRecord, IndexMode } from '../ports';
import { bucketArn, checkBucketName } from '../resources';
import type {
  CreateVectorBucketInput,
  CreateVectorBucketOutput,
  DeleteVectorBucketInput,
  DeleteVectorBucketPolicyInput,
  Empty,
  GetVectorBucketInput,
  GetVectorBucketOutput,
  GetVectorBucketPolicyInput,
  GetVectorBucketPolicyOutput,
  ListVectorBucketsInput,
  ListVectorBucketsOutput,
  PutVectorBucketDefaultIndexModeInput,
  PutVectorBucketPolicyInput,
} from '../wire';
import { encryptionFrom } from './encryption';
import { listPage } from './list-page';
import { checkTags } from './tags';
import { checkBucketPolicy } from '../auth/bucket-policy';

export async function createVectorBucket(deps: Deps, input: CreateVectorBucketInput): Promise<CreateVectorBucketOutput> {
  const name = input.vectorBucketName!;
  checkBucketName(name);
  const tags = input.tags ?? {};
  checkTags(tags, deps.config.limits.maxTagsPerResource);
  const existing = await deps.catalog.listBuckets({ limit: deps.config.limits.maxBucketsPerRegion });
  if (existing.items.length >= deps.config.limits.maxBucketsPerRegion) {
    throw new ServiceQuotaExceededError(`You have reached the limit of ${deps.config.limits.maxBucketsPerRegion} vector buckets`);
  }
  const bucket: BucketRecord = {
    name,
    arn: bucketArn(deps.config, name),
    creationTime: deps.now(),
    encryption: encryptionFrom(input.encryptionConfiguration),
    defaultIndexMode: 'ENHANCED',
    tags,
  };
  await deps.catalog.createBucket(bucket);
  return { vectorBucketArn: bucket.arn };
}

export async function getVectorBucket(deps: Deps, input: GetVectorBucketInput): Promise<GetVectorBucketOutput> {
  const bucket = await findBucket(deps, input);
  return {
    vectorBucket: {
      vectorBucketName: bucket.name,
      vectorBucketArn: bucket.arn,
      creationTime: bucket.creationTime,
      encryptionConfiguration: bucket.encryption,
      defaultIndexMode: bucket.defaultIndexMode,
    },
  };
}

export async function listVectorBuckets(deps: Deps, input: ListVectorBucketsInput): Promise<ListVectorBucketsOutput> {
  const page = await listPage(deps, `ListVectorBuckets\n${input.prefix ?? ''}`, input, (request) =>
    deps.catalog.listBuckets({ ...request, prefix: input.prefix }),
  );
  return {
    vectorBuckets: page.items.map((b) => ({ vectorBucketName: b.name, vectorBucketArn: b.arn, creationTime: b.creationTime })),
    ...(page.nextToken ? { nextToken: page.nextToken } : {}),
  };
}

export async function deleteVectorBucket(deps: Deps, input: DeleteVectorBucketInput): Promise<Empty> {
  const bucket = await findBucket(deps, input);
  await deps.catalog.deleteBucket(bucket.name);
  return {};
}

export async function putVectorBucketPolicy(deps: Deps, input: PutVectorBucketPolicyInput): Promise<Empty> {
  const bucket = await findBucket(deps, input);
  checkBucketPolicy(input.policy!, bucket.arn);
  await deps.catalog.updateBucket(bucket.name, { policy: input.policy! });
  return {};
}

export async function getVectorBucketPolicy(deps: Deps, input: GetVectorBucketPolicyInput): Promise<GetVectorBucketPolicyOutput> {
  const bucket = await findBucket(deps, input);
  if (bucket.policy === undefined) throw new NotFoundError(Messages.policyNotFound);
  return { policy: bucket.policy };
}

export async function deleteVectorBucketPolicy(deps: Deps, input: DeleteVectorBucketPolicyInput): Promise<Empty> {
  const bucket = await findBucket(deps, input);
  await deps.catalog.updateBucket(bucket.name, { policy: null });
  return {};
}

/** AWS allows CLASSIC only in buckets created before its cut-off date. */
export function checkModeAllowed(deps: Deps, bucket: BucketRecord, mode: IndexMode, field: string): void {
  if (mode === 'CLASSIC' && bucket.creationTime >= deps.config.classicModeCutoff) {
    const cutoff = new Date(deps.config.classicModeCutoff * 1000).toISOString().slice(0, 10);
    throw ValidationError.field(field, `CLASSIC mode is only available for vector buckets created before ${cutoff}`);
  }
}

export async function putVectorBucketDefaultIndexMode(deps: Deps, input: PutVectorBucketDefaultIndexModeInput): Promise<Empty> {
  const bucket = await findBucket(deps, input);
  checkModeAllowed(deps, bucket, input.defaultIndexMode, '/defaultIndexMode');
  await deps.catalog.updateBucket(bucket.name, { defaultIndexMode: input.defaultIndexMode });
  return {};
}

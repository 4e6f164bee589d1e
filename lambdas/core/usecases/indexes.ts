import { randomBytes } from 'node:crypto';
import type { Deps } from '../deps';
import { ServiceQuotaExceededError, ValidationError } from '../errors';
import { findBucket, findIndex } from '../lookup';
import type { DistanceMetric, IndexRecord } from '../ports';
import { checkIndexName, indexArn } from '../resources';
import type {
  CreateIndexInput,
  CreateIndexOutput,
  DeleteIndexInput,
  Empty,
  GetIndexInput,
  GetIndexOutput,
  ListIndexesInput,
  ListIndexesOutput,
  UpdateIndexModeInput,
} from '../wire';
import { checkModeAllowed } from './buckets';
import { encryptionFrom } from './encryption';
import { listPage } from './list-page';
import { checkTags } from './tags';

export async function createIndex(deps: Deps, input: CreateIndexInput): Promise<CreateIndexOutput> {
  const bucket = await findBucket(deps, input);
  const name = input.indexName!;
  checkIndexName(name);
  const nonFilterable = input.metadataConfiguration?.nonFilterableMetadataKeys ?? [];
  if (nonFilterable.length > deps.config.limits.maxNonFilterableKeys) {
    throw ValidationError.field(
      '/metadataConfiguration/nonFilterableMetadataKeys',
      `At most ${deps.config.limits.maxNonFilterableKeys} non-filterable metadata keys are allowed`,
    );
  }
  if (new Set(nonFilterable).size !== nonFilterable.length) {
    throw ValidationError.field('/metadataConfiguration/nonFilterableMetadataKeys', 'Non-filterable metadata keys must be unique');
  }
  const tags = input.tags ?? {};
  checkTags(tags, deps.config.limits.maxTagsPerResource);
  const existing = await deps.catalog.listIndexes(bucket.name, { limit: deps.config.limits.maxIndexesPerBucket });
  if (existing.items.length >= deps.config.limits.maxIndexesPerBucket) {
    throw new ServiceQuotaExceededError(`A vector bucket can hold at most ${deps.config.limits.maxIndexesPerBucket} indexes`);
  }
  const index: IndexRecord = {
    bucketName: bucket.name,
    name,
    arn: indexArn(deps.config, bucket.name, name),
    creationTime: deps.now(),
    dataType: 'float32',
    dimension: input.dimension!,
    distanceMetric: input.distanceMetric as DistanceMetric,
    nonFilterableMetadataKeys: nonFilterable,
    encryption: encryptionFrom(input.encryptionConfiguration, bucket.encryption),
    indexMode: bucket.defaultIndexMode,
    tags,
    storageId: `${bucket.name}.${name}.${randomBytes(6).toString('hex')}`,
  };
  await deps.catalog.createIndex(index);
  return { indexArn: index.arn };
}

export async function getIndex(deps: Deps, input: GetIndexInput): Promise<GetIndexOutput> {
  const index = await findIndex(deps, input);
  return {
    index: {
      vectorBucketName: index.bucketName,
      indexName: index.name,
      indexArn: index.arn,
      creationTime: index.creationTime,
      dataType: index.dataType,
      dimension: index.dimension,
      distanceMetric: index.distanceMetric,
      ...(index.nonFilterableMetadataKeys.length
        ? { metadataConfiguration: { nonFilterableMetadataKeys: index.nonFilterableMetadataKeys } }
        : {}),
      encryptionConfiguration: index.encryption,
      indexMode: index.indexMode,
    },
  };
}

export async function listIndexes(deps: Deps, input: ListIndexesInput): Promise<ListIndexesOutput> {
  const bucket = await findBucket(deps, input);
  const page = await listPage(deps, `ListIndexes\n${bucket.arn}\n${input.prefix ?? ''}`, input, (request) =>
    deps.catalog.listIndexes(bucket.name, { ...request, prefix: input.prefix }),
  );
  return {
    indexes: page.items.map((i) => ({
      vectorBucketName: i.bucketName,
      indexName: i.name,
      indexArn: i.arn,
      creationTime: i.creationTime,
    })),
    ...(page.nextToken ? { nextToken: page.nextToken } : {}),
  };
}

export async function deleteIndex(deps: Deps, input: DeleteIndexInput): Promise<Empty> {
  const index = await findIndex(deps, input);
  // The catalog entry goes first: once it is gone no request can reach the data, and a re-created
  // index gets a new storageId, so a failed drop below leaves only unreachable files.
  await deps.catalog.deleteIndex(index.bucketName, index.name);
  // The index is gone for every request from here: a drop that fails (a writer in another process
  // adding files meanwhile) is not this request's error; maintenance's orphan sweep removes the rest.
  await deps.store.dropIndex(index).catch(() => undefined);
  return {};
}

export async function updateIndexMode(deps: Deps, input: UpdateIndexModeInput): Promise<Empty> {
  const index = await findIndex(deps, input);
  const bucket = await findBucket(deps, { vectorBucketName: index.bucketName });
  checkModeAllowed(deps, bucket, input.indexMode, '/indexMode');
  await deps.catalog.updateIndex(index.bucketName, index.name, { indexMode: input.indexMode });
  return {};
}

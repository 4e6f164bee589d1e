// Resolving a request's bucket or index reference to its catalog record, or NotFoundException.
import type { Deps } from './deps';
import { Messages, NotFoundError } from './errors';
import type { BucketRecord, IndexRecord } from './ports';
import { BucketRef, IndexRef, resolveBucket, resolveIndex } from './resources';

export async function findBucket(deps: Deps, ref: BucketRef): Promise<BucketRecord> {
  const name = resolveBucket(deps.config, ref);
  const bucket = await deps.catalog.getBucket(name);
  if (!bucket) throw new NotFoundError(Messages.bucketNotFound);
  return bucket;
}

export async function findIndex(deps: Deps, ref: IndexRef): Promise<IndexRecord> {
  const { bucket, index } = resolveIndex(deps.config, ref);
  const record = await deps.catalog.getIndex(bucket, index);
  // AWS says the same when the bucket is missing too (moto test_get_index_by_unknown_bucket).
  if (!record) throw new NotFoundError(Messages.indexNotFound);
  return record;
}

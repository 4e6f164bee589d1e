// Resolving a request's bucket or index reference to its catalog record, or NotFoundException.
import type { Deps } from './deps';
import { NotFoundError } from './errors';
import type { BucketRecord, IndexRecord } from './ports';
import { BucketRef, IndexRef, resolveBucket, resolveIndex } from './resources';

export async function findBucket(deps: Deps, ref: BucketRef): Promise<BucketRecord> {
  const name = resolveBucket(deps.config, ref);
  const bucket = await deps.catalog.getBucket(name);
  if (!bucket) throw new NotFoundError(`The specified vector bucket could not be found: ${name}`);
  return bucket;
}

export async function findIndex(deps: Deps, ref: IndexRef): Promise<IndexRecord> {
  const { bucket, index } = resolveIndex(deps.config, ref);
  const record = await deps.catalog.getIndex(bucket, index);
  if (record) return record;
  if (!(await deps.catalog.getBucket(bucket))) {
    throw new NotFoundError(`The specified vector bucket could not be found: ${bucket}`);
  }
  throw new NotFoundError(`The specified index could not be found: ${index}`);
}

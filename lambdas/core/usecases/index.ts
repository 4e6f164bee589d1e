// Every operation of the model, by name, to the use case that serves it.
import type { Deps } from '../deps';
import * as buckets from './buckets';
import * as indexes from './indexes';
import * as tags from './tags';
import * as vectors from './vectors';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type UseCase = (deps: Deps, input: any) => Promise<object>;

export const useCases: Record<string, UseCase> = {
  CreateVectorBucket: buckets.createVectorBucket,
  GetVectorBucket: buckets.getVectorBucket,
  ListVectorBuckets: buckets.listVectorBuckets,
  DeleteVectorBucket: buckets.deleteVectorBucket,
  PutVectorBucketPolicy: buckets.putVectorBucketPolicy,
  GetVectorBucketPolicy: buckets.getVectorBucketPolicy,
  DeleteVectorBucketPolicy: buckets.deleteVectorBucketPolicy,
  PutVectorBucketDefaultIndexMode: buckets.putVectorBucketDefaultIndexMode,
  CreateIndex: indexes.createIndex,
  GetIndex: indexes.getIndex,
  ListIndexes: indexes.listIndexes,
  DeleteIndex: indexes.deleteIndex,
  UpdateIndexMode: indexes.updateIndexMode,
  PutVectors: vectors.putVectors,
  GetVectors: vectors.getVectors,
  ListVectors: vectors.listVectors,
  DeleteVectors: vectors.deleteVectors,
  QueryVectors: vectors.queryVectors,
  TagResource: tags.tagResource,
  UntagResource: tags.untagResource,
  ListTagsForResource: tags.listTagsForResource,
};

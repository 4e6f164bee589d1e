// Request and response shapes as the wire carries them. Type-only imports from the AWS SDK let the
// compiler check member names against AWS's own client; nothing from the SDK is loaded at run time.
// On the wire, timestamps are epoch seconds (restJson1), so Date becomes number here.
import type * as Sdk from '@aws-sdk/client-s3vectors';
import type { IndexMode } from './ports';

type Wire<T> = T extends Date
  ? number
  : T extends (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;
type Out<T> = Wire<Omit<T, '$metadata'>>;

export type CreateVectorBucketInput = Sdk.CreateVectorBucketInput;
export type CreateVectorBucketOutput = Out<Sdk.CreateVectorBucketOutput>;
export type GetVectorBucketInput = Sdk.GetVectorBucketInput;
export type GetVectorBucketOutput = Out<Sdk.GetVectorBucketOutput> & { vectorBucket: { defaultIndexMode?: IndexMode } };
export type ListVectorBucketsInput = Sdk.ListVectorBucketsInput;
export type ListVectorBucketsOutput = Out<Sdk.ListVectorBucketsOutput>;
export type DeleteVectorBucketInput = Sdk.DeleteVectorBucketInput;
export type PutVectorBucketPolicyInput = Sdk.PutVectorBucketPolicyInput;
export type GetVectorBucketPolicyInput = Sdk.GetVectorBucketPolicyInput;
export type GetVectorBucketPolicyOutput = Out<Sdk.GetVectorBucketPolicyOutput>;
export type DeleteVectorBucketPolicyInput = Sdk.DeleteVectorBucketPolicyInput;

export type CreateIndexInput = Sdk.CreateIndexInput;
export type CreateIndexOutput = Out<Sdk.CreateIndexOutput>;
export type GetIndexInput = Sdk.GetIndexInput;
export type GetIndexOutput = Out<Sdk.GetIndexOutput> & { index: { indexMode?: IndexMode } };
export type ListIndexesInput = Sdk.ListIndexesInput;
export type ListIndexesOutput = Out<Sdk.ListIndexesOutput>;
export type DeleteIndexInput = Sdk.DeleteIndexInput;

export type PutVectorsInput = Sdk.PutVectorsInput;
export type GetVectorsInput = Sdk.GetVectorsInput;
export type GetVectorsOutput = Out<Sdk.GetVectorsOutput>;
export type ListVectorsInput = Sdk.ListVectorsInput;
export type ListVectorsOutput = Out<Sdk.ListVectorsOutput>;
export type DeleteVectorsInput = Sdk.DeleteVectorsInput;
export type QueryVectorsInput = Sdk.QueryVectorsInput & { queryMode?: IndexMode };
export type QueryVectorsOutput = Out<Sdk.QueryVectorsOutput>;

export type TagResourceInput = Sdk.TagResourceInput;
export type UntagResourceInput = Sdk.UntagResourceInput;
export type ListTagsForResourceInput = Sdk.ListTagsForResourceInput;
export type ListTagsForResourceOutput = Out<Sdk.ListTagsForResourceOutput>;

// Added by AWS after the SDK on the registry was generated (see model/extensions.json).
export interface UpdateIndexModeInput {
  vectorBucketName?: string;
  indexName?: string;
  indexArn?: string;
  indexMode: IndexMode;
}
export interface PutVectorBucketDefaultIndexModeInput {
  vectorBucketName?: string;
  vectorBucketArn?: string;
  defaultIndexMode: IndexMode;
}

export type Empty = Record<string, never>;

/** A metadata document as the wire types spell it. */
export type WireDocument = NonNullable<NonNullable<GetVectorsOutput['vectors']>[number]['metadata']>;

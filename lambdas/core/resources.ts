// Buckets and indexes are addressed by name or by ARN (exactly one of the two), and ARNs are built
// from the configured region and account, as arn:aws:s3vectors:{region}:{account}:bucket/{name}[/index/{index}].
import { Messages, ValidationError } from './errors';

export interface ArnScope {
  region: string;
  accountId: string;
}

const BUCKET_ARN = /^arn:(aws[-a-z0-9]*):s3vectors:([a-z0-9-]+):([0-9]{12}):bucket\/([^/]+)$/;
const INDEX_ARN = /^arn:(aws[-a-z0-9]*):s3vectors:([a-z0-9-]+):([0-9]{12}):bucket\/([^/]+)\/index\/([^/]+)$/;

export function bucketArn(scope: ArnScope, bucket: string): string {
  return `arn:aws:s3vectors:${scope.region}:${scope.accountId}:bucket/${bucket}`;
}

export function indexArn(scope: ArnScope, bucket: string, index: string): string {
  return `${bucketArn(scope, bucket)}/index/${index}`;
}

export type ParsedArn = { bucket: string; index?: string };

/** Parses an S3 Vectors bucket or index ARN; undefined when it is neither. */
export function parseArn(arn: string): (ParsedArn & { partition: string; region: string; accountId: string }) | undefined {
  const index = INDEX_ARN.exec(arn);
  if (index) return { partition: index[1], region: index[2], accountId: index[3], bucket: index[4], index: index[5] };
  const bucket = BUCKET_ARN.exec(arn);
  if (bucket) return { partition: bucket[1], region: bucket[2], accountId: bucket[3], bucket: bucket[4] };
  return undefined;
}

/** True when the ARN names a resource of this endpoint: its partition, region and account. */
export function isOwnArn(scope: ArnScope, parsed: { partition: string; region: string; accountId: string }): boolean {
  return parsed.partition === 'aws' && parsed.region === scope.region && parsed.accountId === scope.accountId;
}

function ownArn(scope: ArnScope, arn: string, field: string): ParsedArn {
  const parsed = parseArn(arn);
  if (!parsed) throw ValidationError.field(field, `Invalid ARN '${arn}'`);
  // An ARN of another partition, region or account names a resource this endpoint does not hold.
  if (!isOwnArn(scope, parsed)) {
    throw ValidationError.field(field, `ARN '${arn}' is not in partition aws, region ${scope.region}, account ${scope.accountId}`);
  }
  return parsed;
}

export interface BucketRef {
  vectorBucketName?: string;
  vectorBucketArn?: string;
}

export interface IndexRef {
  vectorBucketName?: string;
  indexName?: string;
  indexArn?: string;
}

export function resolveBucket(scope: ArnScope, ref: BucketRef): string {
  const { vectorBucketName: name, vectorBucketArn: arn } = ref;
  if ((name === undefined) === (arn === undefined)) {
    throw ValidationError.field('/vectorBucketName', Messages.bucketNameOrArn);
  }
  if (name !== undefined) {
    checkBucketName(name);
    return name;
  }
  const parsed = ownArn(scope, arn!, '/vectorBucketArn');
  if (parsed.index !== undefined) throw ValidationError.field('/vectorBucketArn', `'${arn}' is an index ARN, not a vector bucket ARN`);
  return parsed.bucket;
}

export function resolveIndex(scope: ArnScope, ref: IndexRef): { bucket: string; index: string } {
  const { vectorBucketName: bucket, indexName: index, indexArn: arn } = ref;
  if (arn !== undefined) {
    if (bucket !== undefined || index !== undefined) {
      throw ValidationError.field('/indexArn', Messages.indexNameOrArn);
    }
    const parsed = ownArn(scope, arn, '/indexArn');
    if (parsed.index === undefined) throw ValidationError.field('/indexArn', `'${arn}' is not an index ARN`);
    return { bucket: parsed.bucket, index: parsed.index };
  }
  if (bucket === undefined || index === undefined) {
    throw ValidationError.field(bucket === undefined ? '/vectorBucketName' : '/indexName', Messages.indexNameOrArn);
  }
  checkBucketName(bucket);
  checkIndexName(index);
  return { bucket, index };
}

/** Resolves the resourceArn of the tag operations to a bucket, or an index inside a bucket. */
export function resolveResourceArn(scope: ArnScope, arn: string): ParsedArn {
  return ownArn(scope, arn, '/resourceArn');
}

// Naming rules from the user guide; the model gives only lengths for names. AWS checks them wherever a
// name is given, not only on create: GetIndex answers "Invalid index name" (mem0 issue 5361).
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const INDEX_NAME = /^[a-z0-9][a-z0-9-.]{1,61}[a-z0-9]$/;

export function checkBucketName(name: string, field = '/vectorBucketName'): void {
  if (!BUCKET_NAME.test(name)) {
    throw ValidationError.field(field, Messages.invalidBucketName);
  }
}

export function checkIndexName(name: string, field = '/indexName'): void {
  if (!INDEX_NAME.test(name)) {
    throw ValidationError.field(field, Messages.invalidIndexName);
  }
}

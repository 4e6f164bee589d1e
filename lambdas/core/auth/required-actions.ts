// Which IAM actions an operation needs on which resource, including the extra actions each
// operation's "Permissions" paragraph in the service model demands for certain inputs.
import { Messages, ValidationError } from '../errors';
import { bucketArn, indexArn, isOwnArn, parseArn, type ArnScope } from '../resources';

/** Every s3vectors action (AWS service authorization reference + the two index-mode operations). */
export const S3VECTORS_ACTIONS = [
  'CreateIndex', 'CreateVectorBucket', 'DeleteIndex', 'DeleteVectorBucket', 'DeleteVectorBucketPolicy',
  'DeleteVectors', 'GetIndex', 'GetVectorBucket', 'GetVectorBucketPolicy', 'GetVectors', 'ListIndexes',
  'ListTagsForResource', 'ListVectorBuckets', 'ListVectors', 'PutVectorBucketDefaultIndexMode',
  'PutVectorBucketPolicy', 'PutVectors', 'QueryVectors', 'TagResource', 'UntagResource', 'UpdateIndexMode',
].map((op) => `s3vectors:${op}`);

export interface ActionCheck {
  action: string;
  /** `*` for ListVectorBuckets, which has no resource type. */
  resourceArn: string;
  /** The bucket whose policy and tags apply; absent for `*`. */
  bucketName?: string;
  /** Tags the request sets (aws:RequestTag/…, aws:TagKeys). */
  requestTags?: Record<string, string>;
  /** Tag keys the request removes (aws:TagKeys for UntagResource). */
  tagKeys?: string[];
}

export type { ArnScope };

type Input = Record<string, unknown>;

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
const isTrue = (v: unknown) => v === true;

// Policies are evaluated on the canonical ARN of the resource the request reaches; an ARN that
// names another account's (or partition's, or region's) resource is checked as given, finds no
// grant here, and is refused by the use case anyway.
function canonical(scope: ArnScope, arn: string, parsed: ParsedArnWithScope): string {
  if (!isOwnArn(scope, parsed)) return arn;
  return parsed.index === undefined ? bucketArn(scope, parsed.bucket) : indexArn(scope, parsed.bucket, parsed.index);
}

type ParsedArnWithScope = NonNullable<ReturnType<typeof parseArn>>;

function bucketTarget(scope: ArnScope, input: Input): { arn: string; bucketName: string } {
  const arn = str(input.vectorBucketArn);
  const parsed = arn ? parseArn(arn) : undefined;
  if (arn && parsed && parsed.index === undefined) return { arn: canonical(scope, arn, parsed), bucketName: parsed.bucket };
  const name = str(input.vectorBucketName);
  if (!name) throw ValidationError.field('/vectorBucketName', Messages.bucketNameOrArn);
  return { arn: bucketArn(scope, name), bucketName: name };
}

function indexTarget(scope: ArnScope, input: Input): { arn: string; bucketName: string } {
  const arn = str(input.indexArn);
  const parsed = arn ? parseArn(arn) : undefined;
  if (arn && parsed?.index !== undefined) return { arn: canonical(scope, arn, parsed), bucketName: parsed.bucket };
  const index = str(input.indexName);
  if (!index) throw ValidationError.field('/indexName', Messages.indexNameOrArn);
  if (!str(input.vectorBucketName)) throw ValidationError.field('/vectorBucketName', Messages.indexNameOrArn);
  const bucket = bucketTarget(scope, input);
  return { arn: indexArn(scope, bucket.bucketName, index), bucketName: bucket.bucketName };
}

function tagTarget(scope: ArnScope, input: Input): { arn: string; bucketName: string } {
  const arn = str(input.resourceArn) ?? '';
  const parsed = parseArn(arn);
  if (!parsed) throw ValidationError.field('/resourceArn', 'Invalid resource ARN.');
  return { arn: canonical(scope, arn, parsed), bucketName: parsed.bucket };
}

function tagsOf(input: Input): Record<string, string> | undefined {
  const tags = input.tags;
  return tags && typeof tags === 'object' && Object.keys(tags).length > 0 ? (tags as Record<string, string>) : undefined;
}

const BUCKET_OPS = new Set([
  'GetVectorBucket', 'DeleteVectorBucket', 'PutVectorBucketPolicy', 'GetVectorBucketPolicy',
  'DeleteVectorBucketPolicy', 'ListIndexes', 'PutVectorBucketDefaultIndexMode',
]);
const INDEX_OPS = new Set(['GetIndex', 'DeleteIndex', 'PutVectors', 'GetVectors', 'DeleteVectors', 'UpdateIndexMode']);

/**
 * The checks for one request, in order. `input` is the validated operation input; for the tag
 * operations it carries `resourceArn` (decoded from the path) and, for UntagResource, `tagKeys`.
 */
export function requiredActions(operation: string, input: Input, scope: ArnScope): ActionCheck[] {
  const act = (op: string) => `s3vectors:${op}`;
  if (operation === 'ListVectorBuckets') return [{ action: act(operation), resourceArn: '*' }];
  if (BUCKET_OPS.has(operation)) {
    const t = bucketTarget(scope, input);
    return [{ action: act(operation), resourceArn: t.arn, bucketName: t.bucketName }];
  }
  if (INDEX_OPS.has(operation)) {
    const t = indexTarget(scope, input);
    return [{ action: act(operation), resourceArn: t.arn, bucketName: t.bucketName }];
  }
  switch (operation) {
    case 'CreateVectorBucket':
    case 'CreateIndex': {
      const t = operation === 'CreateIndex' ? indexTarget(scope, input) : bucketTarget(scope, input);
      const requestTags = tagsOf(input);
      const base = { resourceArn: t.arn, bucketName: t.bucketName, ...(requestTags && { requestTags }) };
      // "You must have the s3vectors:TagResource permission in addition ... to create ... with tags."
      return requestTags ? [{ action: act(operation), ...base }, { action: act('TagResource'), ...base }] : [{ action: act(operation), ...base }];
    }
    case 'QueryVectors': {
      const t = indexTarget(scope, input);
      const check = { resourceArn: t.arn, bucketName: t.bucketName };
      // "If you specify a metadata filter or set returnMetadata to true, you must have both ... permissions."
      const needsGet = input.filter !== undefined || isTrue(input.returnMetadata);
      return needsGet ? [{ action: act(operation), ...check }, { action: act('GetVectors'), ...check }] : [{ action: act(operation), ...check }];
    }
    case 'ListVectors': {
      const t = indexTarget(scope, input);
      const check = { resourceArn: t.arn, bucketName: t.bucketName };
      // "If you set returnData or returnMetadata to true, you must have both ... permissions."
      const needsGet = isTrue(input.returnData) || isTrue(input.returnMetadata);
      return needsGet ? [{ action: act(operation), ...check }, { action: act('GetVectors'), ...check }] : [{ action: act(operation), ...check }];
    }
    case 'TagResource': {
      const t = tagTarget(scope, input);
      const requestTags = tagsOf(input) ?? {};
      return [{ action: act(operation), resourceArn: t.arn, bucketName: t.bucketName, requestTags }];
    }
    case 'UntagResource': {
      const t = tagTarget(scope, input);
      const tagKeys = ([] as unknown[]).concat(input.tagKeys ?? []).filter((k): k is string => typeof k === 'string');
      return [{ action: act(operation), resourceArn: t.arn, bucketName: t.bucketName, tagKeys }];
    }
    case 'ListTagsForResource': {
      const t = tagTarget(scope, input);
      return [{ action: act(operation), resourceArn: t.arn, bucketName: t.bucketName }];
    }
  }
  throw new Error(`requiredActions: unknown operation ${operation}`);
}

import type { Deps } from '../deps';
import { Messages, NotFoundError, ValidationError } from '../errors';
import type { Tags } from '../ports';
import { resolveResourceArn } from '../resources';
import type {
  Empty,
  ListTagsForResourceInput,
  ListTagsForResourceOutput,
  TagResourceInput,
  UntagResourceInput,
} from '../wire';

// AWS reserves the aws: prefix for its own tags.
export function checkTags(tags: Tags, maxTags: number, path = '/tags'): void {
  if (Object.keys(tags).length > maxTags) {
    throw ValidationError.field(path, `A resource can have at most ${maxTags} tags`);
  }
  for (const key of Object.keys(tags)) {
    if (key.toLowerCase().startsWith('aws:')) throw ValidationError.field(`${path}/${key}`, "Tag keys starting with 'aws:' are reserved");
  }
}

async function currentTags(deps: Deps, arn: string): Promise<{ tags: Tags; save: (tags: Tags) => Promise<unknown> }> {
  const target = resolveResourceArn(deps.config, arn);
  if (target.index === undefined) {
    const bucket = await deps.catalog.getBucket(target.bucket);
    if (!bucket) throw new NotFoundError(Messages.bucketNotFound);
    return { tags: bucket.tags, save: (tags) => deps.catalog.updateBucket(target.bucket, { tags }) };
  }
  const index = await deps.catalog.getIndex(target.bucket, target.index);
  if (!index) throw new NotFoundError(Messages.indexNotFound);
  return { tags: index.tags, save: (tags) => deps.catalog.updateIndex(target.bucket, target.index!, { tags }) };
}

export async function tagResource(deps: Deps, input: TagResourceInput): Promise<Empty> {
  const { tags, save } = await currentTags(deps, input.resourceArn!);
  const merged = { ...tags, ...input.tags };
  checkTags(merged, deps.config.limits.maxTagsPerResource);
  await save(merged);
  return {};
}

export async function untagResource(deps: Deps, input: UntagResourceInput): Promise<Empty> {
  const { tags, save } = await currentTags(deps, input.resourceArn!);
  const remaining = { ...tags };
  for (const key of input.tagKeys ?? []) delete remaining[key];
  await save(remaining);
  return {};
}

export async function listTagsForResource(deps: Deps, input: ListTagsForResourceInput): Promise<ListTagsForResourceOutput> {
  const { tags } = await currentTags(deps, input.resourceArn!);
  return { tags };
}

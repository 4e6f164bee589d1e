import { requiredActions, S3VECTORS_ACTIONS } from '../../lambdas/core/auth/required-actions';
import { ValidationError } from '../../lambdas/core/errors';
import model from '../../lambdas/core/model/service-2.json';

const scope = { region: 'us-east-1', accountId: '123456789012' };
const B = 'arn:aws:s3vectors:us-east-1:123456789012:bucket/media';
const I = `${B}/index/movies`;
const idx = { vectorBucketName: 'media', indexName: 'movies' };
const actions = (op: string, input: Record<string, unknown>) => requiredActions(op, input, scope).map((c) => `${c.action} ${c.resourceArn}`);

describe('requiredActions', () => {
  it('covers every operation in the service model with its own action', () => {
    for (const op of Object.keys((model as { operations: object }).operations)) {
      const input = { ...idx, resourceArn: I, policy: '{}' };
      expect(requiredActions(op, input, scope)[0].action).toBe(`s3vectors:${op}`);
      expect(S3VECTORS_ACTIONS).toContain(`s3vectors:${op}`);
    }
  });

  it('ListVectorBuckets has no resource type: *', () => {
    expect(actions('ListVectorBuckets', {})).toEqual(['s3vectors:ListVectorBuckets *']);
  });

  it('builds bucket and index ARNs from names or takes the ARN given', () => {
    expect(actions('GetVectorBucket', { vectorBucketName: 'media' })).toEqual([`s3vectors:GetVectorBucket ${B}`]);
    expect(actions('GetVectorBucket', { vectorBucketArn: B })).toEqual([`s3vectors:GetVectorBucket ${B}`]);
    expect(actions('GetIndex', { indexArn: I })).toEqual([`s3vectors:GetIndex ${I}`]);
    expect(requiredActions('PutVectors', idx, scope)[0].bucketName).toBe('media');
    expect(actions('CreateVectorBucket', { vectorBucketName: 'media' })).toEqual([`s3vectors:CreateVectorBucket ${B}`]);
    expect(actions('CreateIndex', idx)).toEqual([`s3vectors:CreateIndex ${I}`]);
  });

  it('the index-mode operations need their own actions', () => {
    expect(actions('UpdateIndexMode', idx)).toEqual([`s3vectors:UpdateIndexMode ${I}`]);
    expect(actions('PutVectorBucketDefaultIndexMode', { vectorBucketName: 'media' })).toEqual([`s3vectors:PutVectorBucketDefaultIndexMode ${B}`]);
  });

  it.each([
    ['QueryVectors', {}, ['QueryVectors']],
    ['QueryVectors', { returnMetadata: false, returnDistance: true }, ['QueryVectors']],
    ['QueryVectors', { filter: { genre: 'drama' } }, ['QueryVectors', 'GetVectors']],
    ['QueryVectors', { returnMetadata: true }, ['QueryVectors', 'GetVectors']],
    ['ListVectors', {}, ['ListVectors']],
    ['ListVectors', { returnData: false, returnMetadata: false }, ['ListVectors']],
    ['ListVectors', { returnData: true }, ['ListVectors', 'GetVectors']],
    ['ListVectors', { returnMetadata: true }, ['ListVectors', 'GetVectors']],
    ['CreateIndex', {}, ['CreateIndex']],
    ['CreateIndex', { tags: {} }, ['CreateIndex']],
    ['CreateIndex', { tags: { team: 'a' } }, ['CreateIndex', 'TagResource']],
    ['CreateVectorBucket', { tags: { team: 'a' } }, ['CreateVectorBucket', 'TagResource']],
    ['GetVectors', { returnData: true, returnMetadata: true }, ['GetVectors']],
  ])('coupling: %s %j → %j', (op, extra, expected) => {
    const checks = requiredActions(op, { ...idx, ...extra }, scope);
    expect(checks.map((c) => c.action)).toEqual(expected.map((a) => `s3vectors:${a}`));
    expect(new Set(checks.map((c) => c.resourceArn)).size).toBe(1);
  });

  it('carries request tags and removed tag keys for the tag condition keys', () => {
    expect(requiredActions('CreateIndex', { ...idx, tags: { team: 'a' } }, scope)[1].requestTags).toEqual({ team: 'a' });
    expect(requiredActions('TagResource', { resourceArn: B, tags: { a: 'b' } }, scope)[0]).toMatchObject({ resourceArn: B, bucketName: 'media', requestTags: { a: 'b' } });
    expect(requiredActions('UntagResource', { resourceArn: I, tagKeys: ['a', 'b'] }, scope)[0]).toMatchObject({ resourceArn: I, tagKeys: ['a', 'b'] });
  });

  it('rejects a request that names no resource', () => {
    expect(() => requiredActions('GetIndex', { vectorBucketName: 'media' }, scope)).toThrow(ValidationError);
    expect(() => requiredActions('ListTagsForResource', { resourceArn: 'arn:aws:s3:::x' }, scope)).toThrow(ValidationError);
  });
});

import {
  CreateIndexCommand,
  CreateVectorBucketCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-s3vectors';
import { ACCOUNT, REGION, expectAwsError, startTestService, uniqueName, type TestService } from '../helpers/service';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(() => t.close());

const bucketArn = (name: string) => `arn:aws:s3vectors:${REGION}:${ACCOUNT}:bucket/${name}`;

describe('tags', () => {
  it('takes tags at creation and lists, adds, overwrites and removes them on a bucket', async () => {
    const name = uniqueName('tag');
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name, tags: { team: 'search', 'cost center': '42' } }));
    const arn = bucketArn(name);
    expect((await t.client.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual({ team: 'search', 'cost center': '42' });
    await t.client.send(new TagResourceCommand({ resourceArn: arn, tags: { team: 'ml', stage: 'dev' } }));
    expect((await t.client.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual({
      team: 'ml',
      stage: 'dev',
      'cost center': '42',
    });
    await t.client.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['team', 'cost center', 'absent'] }));
    expect((await t.client.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual({ stage: 'dev' });
  });

  it('tags an index by its ARN, separately from its bucket', async () => {
    const name = uniqueName('tagi');
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name }));
    const created = await t.client.send(
      new CreateIndexCommand({ vectorBucketName: name, indexName: 'movies', dataType: 'float32', dimension: 2, distanceMetric: 'cosine', tags: { a: '1' } }),
    );
    await t.client.send(new TagResourceCommand({ resourceArn: created.indexArn, tags: { b: '2' } }));
    expect((await t.client.send(new ListTagsForResourceCommand({ resourceArn: created.indexArn }))).tags).toEqual({ a: '1', b: '2' });
    expect((await t.client.send(new ListTagsForResourceCommand({ resourceArn: bucketArn(name) }))).tags).toEqual({});
  });

  it('answers NotFoundException for a missing resource and ValidationException for a bad ARN or tag', async () => {
    await expectAwsError(
      t.client.send(new ListTagsForResourceCommand({ resourceArn: bucketArn(uniqueName('missing')) })),
      'NotFoundException',
      404,
    );
    await expectAwsError(t.client.send(new ListTagsForResourceCommand({ resourceArn: 'arn:aws:s3:::not-vectors' })), 'ValidationException', 400);
    const name = uniqueName('tagbad');
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name }));
    await expectAwsError(t.client.send(new TagResourceCommand({ resourceArn: bucketArn(name), tags: { 'aws:reserved': 'x' } })), 'ValidationException', 400);
    await expectAwsError(t.client.send(new TagResourceCommand({ resourceArn: bucketArn(name), tags: { 'bad#key': 'x' } })), 'ValidationException', 400);
    const tooMany = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    await expectAwsError(t.client.send(new TagResourceCommand({ resourceArn: bucketArn(name), tags: tooMany })), 'ValidationException', 400);
  });
});

import {
  CreateIndexCommand,
  CreateVectorBucketCommand,
  DeleteIndexCommand,
  GetIndexCommand,
  GetVectorsCommand,
  ListIndexesCommand,
  paginateListIndexes,
  PutVectorsCommand,
  type CreateIndexCommandInput,
} from '@aws-sdk/client-s3vectors';
import { ACCOUNT, REGION, expectAwsError, startTestService, uniqueName, type TestService } from '../helpers/service';

let t: TestService;
let bucket: string;
beforeAll(async () => {
  t = await startTestService();
  bucket = uniqueName('idx');
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: bucket }));
});
afterAll(() => t.close());

const spec = (indexName: string, extra: Partial<CreateIndexCommandInput> = {}): CreateIndexCommandInput => ({
  vectorBucketName: bucket,
  indexName,
  dataType: 'float32',
  dimension: 4,
  distanceMetric: 'cosine',
  ...extra,
});

describe('CreateIndex / GetIndex', () => {
  it('creates an index and describes it by name and by ARN', async () => {
    const created = await t.client.send(
      new CreateIndexCommand(spec('movies', { metadataConfiguration: { nonFilterableMetadataKeys: ['summary'] } })),
    );
    const arn = `arn:aws:s3vectors:${REGION}:${ACCOUNT}:bucket/${bucket}/index/movies`;
    expect(created.indexArn).toBe(arn);
    const byName = await t.client.send(new GetIndexCommand({ vectorBucketName: bucket, indexName: 'movies' }));
    expect(byName.index).toMatchObject({
      vectorBucketName: bucket,
      indexName: 'movies',
      indexArn: arn,
      dataType: 'float32',
      dimension: 4,
      distanceMetric: 'cosine',
      metadataConfiguration: { nonFilterableMetadataKeys: ['summary'] },
      encryptionConfiguration: { sseType: 'AES256' },
    });
    expect(byName.index!.creationTime).toBeInstanceOf(Date);
    const byArn = await t.client.send(new GetIndexCommand({ indexArn: arn }));
    expect(byArn.index!.indexName).toBe('movies');
  });

  it('refuses a duplicate index with ConflictException', async () => {
    await t.client.send(new CreateIndexCommand(spec('dup-index')));
    await expectAwsError(t.client.send(new CreateIndexCommand(spec('dup-index'))), 'ConflictException', 409);
  });

  it('answers NotFoundException for a missing bucket or index', async () => {
    await expectAwsError(
      t.client.send(new CreateIndexCommand({ ...spec('x-index'), vectorBucketName: uniqueName('missing') })),
      'NotFoundException',
      404,
    );
    await expectAwsError(t.client.send(new GetIndexCommand({ vectorBucketName: bucket, indexName: 'no-such' })), 'NotFoundException', 404);
  });

  it.each([
    ['dimension 0', { dimension: 0 }, '/dimension'],
    ['dimension 4097', { dimension: 4097 }, '/dimension'],
    ['unknown metric', { distanceMetric: 'dot' as never }, '/distanceMetric'],
    ['unknown data type', { dataType: 'float16' as never }, '/dataType'],
    ['11 non-filterable keys', { metadataConfiguration: { nonFilterableMetadataKeys: Array.from({ length: 11 }, (_, i) => `k${i}`) } }, '/metadataConfiguration/nonFilterableMetadataKeys'],
    ['bad index name', { indexName: 'Bad_Name' }, '/indexName'],
  ])('rejects %s with a ValidationException naming the field', async (_why, extra, path) => {
    const error = await expectAwsError(t.client.send(new CreateIndexCommand(spec('valid-name', extra))), 'ValidationException', 400);
    expect(error.fieldList?.map((f) => f.path)).toContain(path);
  });

  it('requires indexArn or bucket name and index name, not both', async () => {
    await t.client.send(new CreateIndexCommand(spec('ref-index')));
    const arn = `arn:aws:s3vectors:${REGION}:${ACCOUNT}:bucket/${bucket}/index/ref-index`;
    await expectAwsError(t.client.send(new GetIndexCommand({ indexArn: arn, indexName: 'ref-index' })), 'ValidationException', 400);
    await expectAwsError(t.client.send(new GetIndexCommand({ indexName: 'ref-index' })), 'ValidationException', 400);
  });
});

describe('ListIndexes', () => {
  it('pages with a prefix and returns each index once', async () => {
    const names = ['page-a', 'page-b', 'page-c', 'page-d', 'page-e'];
    for (const name of names) await t.client.send(new CreateIndexCommand(spec(name)));
    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateListIndexes({ client: t.client, pageSize: 2 }, { vectorBucketName: bucket, prefix: 'page-' })) {
      pages++;
      seen.push(...page.indexes!.map((i) => i.indexName!));
      for (const i of page.indexes!) expect(i).toMatchObject({ vectorBucketName: bucket, indexArn: expect.stringContaining('/index/') });
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(names);
  });

  it('answers NotFoundException for a missing bucket', async () => {
    await expectAwsError(t.client.send(new ListIndexesCommand({ vectorBucketName: uniqueName('gone') })), 'NotFoundException', 404);
  });
});

describe('DeleteIndex', () => {
  it('deletes the data with the index: a re-created index starts empty', async () => {
    await t.client.send(new CreateIndexCommand(spec('recreate')));
    await t.client.send(
      new PutVectorsCommand({ vectorBucketName: bucket, indexName: 'recreate', vectors: [{ key: 'k', data: { float32: [1, 2, 3, 4] } }] }),
    );
    await t.client.send(new DeleteIndexCommand({ vectorBucketName: bucket, indexName: 'recreate' }));
    await expectAwsError(t.client.send(new GetIndexCommand({ vectorBucketName: bucket, indexName: 'recreate' })), 'NotFoundException', 404);
    await t.client.send(new CreateIndexCommand(spec('recreate')));
    const got = await t.client.send(new GetVectorsCommand({ vectorBucketName: bucket, indexName: 'recreate', keys: ['k'] }));
    expect(got.vectors).toEqual([]);
    await expectAwsError(t.client.send(new DeleteIndexCommand({ vectorBucketName: bucket, indexName: 'never' })), 'NotFoundException', 404);
  });
});

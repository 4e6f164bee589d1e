// UpdateIndexMode, PutVectorBucketDefaultIndexMode, indexMode/defaultIndexMode and queryMode are newer
// than the AWS SDK for JavaScript on the registry, so these requests are signed with the SDK's own
// signer and sent raw.
import { CreateIndexCommand, CreateVectorBucketCommand, PutVectorsCommand } from '@aws-sdk/client-s3vectors';
import { callOperation } from '../helpers/raw';
import { startTestService, uniqueName, type TestService } from '../helpers/service';

async function setup(t: TestService) {
  const bucket = uniqueName('mode');
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: bucket }));
  const index = { vectorBucketName: bucket, indexName: 'docs' };
  await t.client.send(new CreateIndexCommand({ ...index, dataType: 'float32', dimension: 2, distanceMetric: 'euclidean' }));
  await t.client.send(
    new PutVectorsCommand({
      ...index,
      vectors: [
        { key: 'a', data: { float32: [1, 0] }, metadata: { path: '/marketing/a' } },
        { key: 'b', data: { float32: [0, 1] }, metadata: { path: '/sales/b' } },
      ],
    }),
  );
  return { bucket, index };
}

describe('index modes (AWS buckets created on or after 2026-09-30: ENHANCED only)', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService();
  });
  afterAll(() => t.close());

  it('reports ENHANCED for new buckets and their indexes', async () => {
    const { bucket, index } = await setup(t);
    const got = await callOperation(t.url, 'GetVectorBucket', { vectorBucketName: bucket });
    expect(got.status).toBe(200);
    expect((got.body.vectorBucket as Record<string, unknown>).defaultIndexMode).toBe('ENHANCED');
    const idx = await callOperation(t.url, 'GetIndex', index);
    expect((idx.body.index as Record<string, unknown>).indexMode).toBe('ENHANCED');
  });

  it('accepts ENHANCED and refuses CLASSIC for a new bucket, as AWS does', async () => {
    const { bucket, index } = await setup(t);
    const enhanced = await callOperation(t.url, 'UpdateIndexMode', { ...index, indexMode: 'ENHANCED' });
    expect(enhanced.status).toBe(200);
    expect(enhanced.body).toEqual({});
    const classic = await callOperation(t.url, 'UpdateIndexMode', { ...index, indexMode: 'CLASSIC' });
    expect(classic.status).toBe(400);
    expect(classic.errorType).toBe('ValidationException');
    const defaultClassic = await callOperation(t.url, 'PutVectorBucketDefaultIndexMode', { vectorBucketName: bucket, defaultIndexMode: 'CLASSIC' });
    expect(defaultClassic.errorType).toBe('ValidationException');
  });

  it('validates the new members and answers NotFoundException for a missing index', async () => {
    const { index } = await setup(t);
    const bad = await callOperation(t.url, 'UpdateIndexMode', { ...index, indexMode: 'TURBO' });
    expect(bad.errorType).toBe('ValidationException');
    expect((bad.body.fieldList as { path: string }[])[0].path).toBe('/indexMode');
    const missing = await callOperation(t.url, 'UpdateIndexMode', { ...index, indexName: 'nope', indexMode: 'ENHANCED' });
    expect(missing.status).toBe(404);
    expect(missing.errorType).toBe('NotFoundException');
    const noMode = await callOperation(t.url, 'QueryVectors', { ...index, topK: 1, queryVector: { float32: [1, 0] }, queryMode: 'FAST' });
    expect(noMode.errorType).toBe('ValidationException');
  });

  it('allows $startsWith on an ENHANCED index and refuses queryMode CLASSIC there', async () => {
    const { index } = await setup(t);
    const hit = await callOperation(t.url, 'QueryVectors', {
      ...index,
      topK: 5,
      queryVector: { float32: [1, 1] },
      filter: { path: { $startsWith: '/marketing/' } },
    });
    expect(hit.status).toBe(200);
    expect(hit.body.vectors).toEqual([{ key: 'a' }]);
    const classic = await callOperation(t.url, 'QueryVectors', { ...index, topK: 5, queryVector: { float32: [1, 1] }, queryMode: 'CLASSIC' });
    expect(classic.status).toBe(400);
    expect(classic.errorType).toBe('ValidationException');
  });
});

describe('CLASSIC indexes (buckets created before the cut-off, simulated by moving it)', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ env: { S3V_CLASSIC_MODE_CUTOFF: '2100-01-01T00:00:00Z' } });
  });
  afterAll(() => t.close());

  it('switches an index to CLASSIC and back, and new indexes take the bucket default', async () => {
    const { bucket, index } = await setup(t);
    expect((await callOperation(t.url, 'UpdateIndexMode', { ...index, indexMode: 'CLASSIC' })).status).toBe(200);
    const idx = await callOperation(t.url, 'GetIndex', index);
    expect((idx.body.index as Record<string, unknown>).indexMode).toBe('CLASSIC');
    expect((await callOperation(t.url, 'PutVectorBucketDefaultIndexMode', { vectorBucketArn: `arn:aws:s3vectors:us-east-1:123456789012:bucket/${bucket}`, defaultIndexMode: 'CLASSIC' })).status).toBe(200);
    await t.client.send(new CreateIndexCommand({ vectorBucketName: bucket, indexName: 'later', dataType: 'float32', dimension: 2, distanceMetric: 'cosine' }));
    const later = await callOperation(t.url, 'GetIndex', { vectorBucketName: bucket, indexName: 'later' });
    expect((later.body.index as Record<string, unknown>).indexMode).toBe('CLASSIC');
    const bucketInfo = await callOperation(t.url, 'GetVectorBucket', { vectorBucketName: bucket });
    expect((bucketInfo.body.vectorBucket as Record<string, unknown>).defaultIndexMode).toBe('CLASSIC');
    // The index that already existed keeps its own mode until changed.
    expect((await callOperation(t.url, 'UpdateIndexMode', { ...index, indexMode: 'ENHANCED' })).status).toBe(200);
  });

  it('needs queryMode ENHANCED for $startsWith on a CLASSIC index', async () => {
    const { index } = await setup(t);
    await callOperation(t.url, 'UpdateIndexMode', { ...index, indexMode: 'CLASSIC' });
    const query = { ...index, topK: 5, queryVector: { float32: [1, 1] }, filter: { path: { $startsWith: '/sales/' } } };
    const refused = await callOperation(t.url, 'QueryVectors', query);
    expect(refused.status).toBe(400);
    expect(refused.errorType).toBe('ValidationException');
    const enhanced = await callOperation(t.url, 'QueryVectors', { ...query, queryMode: 'ENHANCED' });
    expect(enhanced.status).toBe(200);
    expect(enhanced.body.vectors).toEqual([{ key: 'b' }]);
    const classicEq = await callOperation(t.url, 'QueryVectors', { ...index, topK: 5, queryVector: { float32: [1, 1] }, filter: { path: '/sales/b' }, queryMode: 'CLASSIC' });
    expect(classicEq.body.vectors).toEqual([{ key: 'b' }]);
  });
});

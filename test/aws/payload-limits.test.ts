// Lambda carries at most 6 MB each way. An answer over it would be dropped by Lambda and turned into
// a bare 502 by API Gateway; the AWS handlers answer a ValidationException that says how many vectors
// fit instead. The real pipeline and store; the limit as the stack sets it (S3V_MAX_RESPONSE_BYTES).
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { CreateIndexCommand, CreateVectorBucketCommand, PutVectorsCommand } from '@aws-sdk/client-s3vectors';
import { makeHandler } from '../../lambdas/runtime/pipeline';
import { LAMBDA_REQUEST_LIMIT, LAMBDA_RESPONSE_LIMIT, payloadBytes, vectorsPerPut } from '../../lambdas/runtime/payload-limits';
import { startTestService, uniqueName, type TestService } from '../helpers/service';

jest.setTimeout(120_000);

const DIM = 4096;
let t: TestService;
const bucket = uniqueName('payload');
beforeAll(async () => {
  t = await startTestService({ auth: 'off' });
  await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: bucket }));
  await t.client.send(new CreateIndexCommand({ vectorBucketName: bucket, indexName: 'big', dataType: 'float32', dimension: DIM, distanceMetric: 'cosine' }));
  for (let batch = 0; batch < 2; batch++) {
    const vectors = Array.from({ length: 50 }, (_, i) => ({
      key: `v-${batch * 50 + i}`,
      data: { float32: Array.from({ length: DIM }, (_, d) => Math.sin(batch * 50 + i + d * 0.37) / 3) },
      metadata: { n: batch * 50 + i },
    }));
    await t.client.send(new PutVectorsCommand({ vectorBucketName: bucket, indexName: 'big', vectors }));
  }
});
afterAll(async () => {
  delete process.env.S3V_MAX_RESPONSE_BYTES;
  await t.close();
});

function event(operation: string, body: object): APIGatewayProxyEvent {
  return {
    resource: `/${operation}`,
    path: `/${operation}`,
    httpMethod: 'POST',
    headers: { 'Content-Type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: { requestId: 'req-payload', identity: { sourceIp: '203.0.113.7' } } as never,
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

async function call(operation: string, body: object): Promise<APIGatewayProxyResult> {
  return (await makeHandler(operation, async () => t.service.deps)(event(operation, body), {} as never)) as APIGatewayProxyResult;
}

const keys = (n: number) => Array.from({ length: n }, (_, i) => `v-${i}`);

describe('response size in the AWS deployment', () => {
  it('GetVectors of 100 × 4096-d with data: a ValidationException on /keys saying how many fit, and that many fit', async () => {
    process.env.S3V_MAX_RESPONSE_BYTES = String(LAMBDA_REQUEST_LIMIT);
    const tooMany = await call('GetVectors', { vectorBucketName: bucket, indexName: 'big', keys: keys(100), returnData: true, returnMetadata: true });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.headers).toMatchObject({ 'x-amzn-errortype': 'ValidationException' });
    const error = JSON.parse(tooMany.body) as { message: string; fieldList: { path: string; message: string }[] };
    expect(error.fieldList[0].path).toBe('/keys');
    const fit = Number(/request at most (\d+) keys/.exec(error.message)?.[1]);
    expect(error.message).toContain(`${fit} of the 100 vectors fit`);
    expect(fit).toBeGreaterThan(20);
    expect(fit).toBeLessThan(100);

    const ok = await call('GetVectors', { vectorBucketName: bucket, indexName: 'big', keys: keys(fit), returnData: true, returnMetadata: true });
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body).vectors).toHaveLength(fit);
    expect(payloadBytes(ok)).toBeLessThanOrEqual(LAMBDA_REQUEST_LIMIT);
    expect(payloadBytes(ok)).toBeLessThan(LAMBDA_RESPONSE_LIMIT);
    const oneMore = await call('GetVectors', { vectorBucketName: bucket, indexName: 'big', keys: keys(fit + 1), returnData: true, returnMetadata: true });
    expect(oneMore.statusCode).toBe(400);
    console.log(`GetVectors ${DIM}-d with data: ${fit} vectors per call fit in ${LAMBDA_REQUEST_LIMIT} bytes (response of ${fit}: ${payloadBytes(ok)} bytes)`);
  });

  it('without data the 100 keys fit; ListVectors pages by bytes on its own; locally there is no limit', async () => {
    process.env.S3V_MAX_RESPONSE_BYTES = String(LAMBDA_REQUEST_LIMIT);
    expect((await call('GetVectors', { vectorBucketName: bucket, indexName: 'big', keys: keys(100), returnMetadata: true })).statusCode).toBe(200);
    const listed = await call('ListVectors', { vectorBucketName: bucket, indexName: 'big', maxResults: 1000, returnData: true, returnMetadata: true });
    expect(listed.statusCode).toBe(200);
    expect(payloadBytes(listed)).toBeLessThan(LAMBDA_REQUEST_LIMIT);
    delete process.env.S3V_MAX_RESPONSE_BYTES;
    expect((await call('GetVectors', { vectorBucketName: bucket, indexName: 'big', keys: keys(100), returnData: true })).statusCode).toBe(200);
  });

  it('the documented PutVectors ceilings per dimension fit a 6 MB request', () => {
    for (const d of [1024, 1536, 3072, 4096]) {
      const n = vectorsPerPut(d);
      const body = JSON.stringify({
        vectorBucketName: 'b',
        indexName: 'i',
        vectors: Array.from({ length: n }, (_, i) => ({ key: `key-${i}`, data: { float32: Array.from({ length: d }, (_, j) => -Math.fround(Math.sin(i * 31 + j) / 7)) } })),
      });
      expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThan(LAMBDA_REQUEST_LIMIT - 8 * 1024);
    }
    expect([1024, 1536, 3072, 4096].map(vectorsPerPut)).toEqual([254, 169, 85, 63]);
  });

  it('the ceilings fit real embeddings (unit-length float32) as the JS SDK and boto3 write them', () => {
    // Unit-length embeddings have small components (about 1/sqrt(d)): 17 significant digits after
    // "-0.0" or "-0.00", and boto3's json.dumps puts ", " between them — 22–23 bytes per value, more
    // than the sin()-based data above. boto3 is the most common client of S3 Vectors.
    let seed = 20261201;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) + 0.5) / 2 ** 31;
    const gaussian = () => Math.sqrt(-2 * Math.log(random())) * Math.cos(2 * Math.PI * random());
    const embedding = (d: number) => {
      const v = Array.from({ length: d }, gaussian);
      const norm = Math.hypot(...v);
      return v.map((x) => Math.fround(x / norm));
    };
    // Python's json.dumps: ", " and ": " separators (botocore's rest-json serializer uses the defaults).
    const boto3Json = (value: unknown) => JSON.stringify(value).replace(/,(?=[-\d"{[])/g, ', ').replace(/":(?=[-\d"{[tfn])/g, '": ');
    for (const d of [384, 768, 1024, 1536, 3072, 4096]) {
      const n = Math.min(500, vectorsPerPut(d));
      const pool = Array.from({ length: 8 }, () => embedding(d));
      const body = { vectorBucketName: 'media-embeddings', indexName: 'movies', vectors: Array.from({ length: n }, (_, i) => ({ key: `doc-${i}`, data: { float32: pool[i % 8] } })) };
      for (const text of [JSON.stringify(body), boto3Json(body)]) {
        // The event carries the body as a JSON string, plus headers and the request context.
        expect({ d, n, bytes: Buffer.byteLength(JSON.stringify(text)) + 8 * 1024 < LAMBDA_REQUEST_LIMIT }).toEqual({ d, n, bytes: true });
      }
    }
  });
});

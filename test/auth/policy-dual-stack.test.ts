// A server listening on `::` (dual-stack) sees IPv4 clients as ::ffff:a.b.c.d. aws:SourceIp
// conditions on IPv4 ranges must still match them, as AWS (which sees a.b.c.d) would: through the
// SDK, an IPv4 client of a dual-stack server, a bucket policy denying every address outside 127/8.
import { CreateVectorBucketCommand, GetVectorBucketCommand, PutVectorBucketPolicyCommand, S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3Vectors } from '../../lambdas/embed';
import { ACCOUNT, REGION, TEST_CREDENTIALS, expectAwsError, uniqueName } from '../helpers/service';

const dataDir = mkdtempSync(join(tmpdir(), 's3v-dual-'));
let server: Awaited<ReturnType<typeof startS3Vectors>>;
let client: S3VectorsClient;
beforeAll(async () => {
  server = await startS3Vectors({ dataDir, host: '::', env: { S3V_REGION: REGION, S3V_ACCOUNT_ID: ACCOUNT }, persist: false, auth: { ...TEST_CREDENTIALS, decisionCacheMs: 0 }, maintenance: false });
  const port = new URL(server.endpoint.replace('[::]', 'localhost')).port;
  client = new S3VectorsClient({ endpoint: `http://127.0.0.1:${port}`, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
});
afterAll(async () => {
  client?.destroy();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('an IPv4 client of a dual-stack server is in 127.0.0.0/8 for aws:SourceIp', async () => {
  const name = uniqueName('dual');
  await client.send(new CreateVectorBucketCommand({ vectorBucketName: name }));
  const bucketArn = `arn:aws:s3vectors:${REGION}:${ACCOUNT}:bucket/${name}`;
  const deny = (range: string) =>
    JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3vectors:GetVectorBucket', Resource: bucketArn, Condition: { NotIpAddress: { 'aws:SourceIp': range } } }] });
  await client.send(new PutVectorBucketPolicyCommand({ vectorBucketName: name, policy: deny('127.0.0.0/8') }));
  await client.send(new GetVectorBucketCommand({ vectorBucketName: name })); // inside the range: not denied
  await client.send(new PutVectorBucketPolicyCommand({ vectorBucketName: name, policy: deny('192.0.2.0/24') }));
  await expectAwsError(client.send(new GetVectorBucketCommand({ vectorBucketName: name })), 'AccessDeniedException', 403);
});

// SigV4 authentication on the local server, through the real SDK client (and raw signed HTTP for
// what the SDK will not send): every rejection is a 403 with AWS's error type, and writes nothing.
import {
  CreateVectorBucketCommand,
  ListTagsForResourceCommand,
  ListVectorBucketsCommand,
  S3VectorsClient,
  type S3VectorsClientConfig,
} from '@aws-sdk/client-s3vectors';
import { callOperation, rawCall, signedRequest } from '../helpers/raw';
import { ACCOUNT, REGION, TEST_CREDENTIALS, clientFor, expectAwsError, startTestService, uniqueName, type TestService } from '../helpers/service';

let t: TestService;
let user: { accessKeyId: string; secretAccessKey: string };
/** Every bucket name a rejected request tried to create: none may exist at the end. */
const attempted: string[] = [];

beforeAll(async () => {
  t = await startTestService();
  await t.service.identities.createUser('writer');
  await t.service.identities.attachPolicy(
    'writer',
    'all',
    JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3vectors:*', Resource: '*' }] }),
  );
  user = await t.service.identities.createAccessKey('writer');
});
afterAll(() => t.close());

function client(config: Partial<S3VectorsClientConfig> & Record<string, unknown> = {}): S3VectorsClient {
  return new S3VectorsClient({ endpoint: t.url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1, ...config } as S3VectorsClientConfig);
}

function createAttempt(): CreateVectorBucketCommand {
  const name = uniqueName('authn');
  attempted.push(name);
  return new CreateVectorBucketCommand({ vectorBucketName: name });
}

describe('rejected requests: 403 with the AWS error type, nothing written', () => {
  it('no signature → MissingAuthenticationTokenException', async () => {
    const name = uniqueName('authn');
    attempted.push(name);
    const res = await callOperation(t.url, 'CreateVectorBucket', { vectorBucketName: name }, { unsigned: true });
    expect({ status: res.status, type: res.errorType, message: res.body.message }).toEqual({
      status: 403,
      type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    });
  });

  it('unknown access key → UnrecognizedClientException', async () => {
    const c = clientFor(t.url, { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x'.repeat(40) });
    const e = await expectAwsError(c.send(createAttempt()), 'UnrecognizedClientException', 403);
    expect(e.message).toBe('The security token included in the request is invalid.');
    c.destroy();
  });

  it('a known key with the wrong secret → InvalidSignatureException', async () => {
    for (const credentials of [{ ...TEST_CREDENTIALS, secretAccessKey: 'wrong' }, { ...user, secretAccessKey: user.secretAccessKey.slice(1) + 'A' }]) {
      const c = clientFor(t.url, credentials);
      const e = await expectAwsError(c.send(createAttempt()), 'InvalidSignatureException', 403);
      expect(e.message).toMatch(/^The request signature we calculated does not match/);
      c.destroy();
    }
  });

  it('a body changed after signing → InvalidSignatureException', async () => {
    const name = uniqueName('authn');
    attempted.push(name);
    const signed = await signedRequest(t.url, '/CreateVectorBucket', { vectorBucketName: uniqueName('decoy') });
    const response = await fetch(signed.url, { ...signed.init, body: JSON.stringify({ vectorBucketName: name }) });
    expect({ status: response.status, type: response.headers.get('x-amzn-errortype') }).toEqual({ status: 403, type: 'InvalidSignatureException' });
  });

  it('a signed header changed after signing → InvalidSignatureException', async () => {
    const name = uniqueName('authn');
    attempted.push(name);
    const signed = await signedRequest(t.url, '/CreateVectorBucket', { vectorBucketName: name });
    const headers = { ...(signed.init.headers as Record<string, string>), 'content-type': 'application/x-amz-json-1.1' };
    const response = await fetch(signed.url, { ...signed.init, headers });
    expect({ status: response.status, type: response.headers.get('x-amzn-errortype') }).toEqual({ status: 403, type: 'InvalidSignatureException' });
  });

  it.each([
    ['20 minutes slow', -20 * 60_000, /^Signature expired: \d{8}T\d{6}Z is now earlier than/],
    ['20 minutes fast', 20 * 60_000, /^Signature not yet current: \d{8}T\d{6}Z is still later than/],
  ])('a client clock %s → InvalidSignatureException (signature expired)', async (_label, offset, message) => {
    const c = client({ systemClockOffset: offset });
    const e = await expectAwsError(c.send(createAttempt()), 'InvalidSignatureException', 403);
    expect(e.message).toMatch(message);
    c.destroy();
  });

  it('14 minutes of skew is still accepted', async () => {
    const c = client({ systemClockOffset: -14 * 60_000 });
    expect((await c.send(new ListVectorBucketsCommand({}))).$metadata.httpStatusCode).toBe(200);
    c.destroy();
  });

  it('a credential scoped to another region → InvalidSignatureException', async () => {
    const c = clientFor(t.url, TEST_CREDENTIALS, 'eu-west-1');
    const e = await expectAwsError(c.send(createAttempt()), 'InvalidSignatureException', 403);
    expect(e.message).toMatch(/region/);
    c.destroy();
  });

  it('a credential scoped to another service → InvalidSignatureException', async () => {
    const c = client({ signingName: 's3' });
    await expectAwsError(c.send(createAttempt()), 'InvalidSignatureException', 403);
    c.destroy();
  });

  it('a disabled user’s key, and a deleted user’s key → UnrecognizedClientException', async () => {
    await t.service.identities.createUser('temp');
    await t.service.identities.attachPolicy('temp', 'all', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }));
    const key = await t.service.identities.createAccessKey('temp');
    const c = clientFor(t.url, key);
    expect((await c.send(new ListVectorBucketsCommand({}))).$metadata.httpStatusCode).toBe(200);
    await t.service.identities.setUserEnabled('temp', false);
    await expectAwsError(c.send(createAttempt()), 'UnrecognizedClientException', 403);
    await t.service.identities.setUserEnabled('temp', true);
    expect((await c.send(new ListVectorBucketsCommand({}))).$metadata.httpStatusCode).toBe(200);
    await t.service.identities.deleteUser('temp');
    await expectAwsError(c.send(createAttempt()), 'UnrecognizedClientException', 403);
    c.destroy();
  });

  it('none of the rejected requests created anything', async () => {
    const names = ((await t.client.send(new ListVectorBucketsCommand({}))).vectorBuckets ?? []).map((b) => b.vectorBucketName);
    expect(attempted.length).toBeGreaterThanOrEqual(10);
    expect(names.filter((n) => attempted.includes(n!))).toEqual([]);
  });
});

describe('accepted signatures', () => {
  it('signing name execute-api (a client set up for the AWS deployment) works', async () => {
    const authorizations: string[] = [];
    const c = client({ signingName: 'execute-api', credentials: user });
    c.middlewareStack.add(
      (next) => async (args) => {
        authorizations.push(String((args.request as { headers: Record<string, string> }).headers.authorization));
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'captureAuthorization' },
    );
    const name = uniqueName('execapi');
    const created = await c.send(new CreateVectorBucketCommand({ vectorBucketName: name }));
    expect(created.$metadata.httpStatusCode).toBe(200);
    expect(authorizations[0]).toContain(`/${REGION}/execute-api/aws4_request`);
    c.destroy();
  });

  it('a tag path signed the way botocore does (the already-encoded ARN escaped again)', async () => {
    const name = uniqueName('b3tags');
    await t.client.send(new CreateVectorBucketCommand({ vectorBucketName: name, tags: { team: 'search' } }));
    const arn = `arn:aws:s3vectors:${REGION}:${ACCOUNT}:bucket/${name}`;
    // The request path carries %3A and %2F; the signer escapes the path again (uriEscapePath), as
    // botocore does for every service but S3, so the canonical path holds %253A and %252F.
    const res = await rawCall(t.url, `/tags/${encodeURIComponent(arn)}`, undefined, { method: 'GET' });
    expect({ status: res.status, tags: res.body.tags }).toEqual({ status: 200, tags: { team: 'search' } });
    const tagged = await rawCall(t.url, `/tags/${encodeURIComponent(arn)}`, { tags: { stage: 'dev' } }, { method: 'POST', credentials: user });
    expect(tagged.status).toBe(200);
    expect((await t.client.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual({ team: 'search', stage: 'dev' });
  });
});

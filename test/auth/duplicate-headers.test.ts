// Issue 10 (7): a request with two Authorization headers (bogus then valid, or valid then bogus,
// in any letter case) or a signed header sent twice is rejected as AWS rejects it, whatever order;
// Node's IncomingMessage keeps only one of them, so the server must look at the raw headers.
import { ListVectorBucketsCommand } from '@aws-sdk/client-s3vectors';
import { connect } from 'node:net';
import { signedRequest } from '../helpers/raw';
import { startTestService, uniqueName, type TestService } from '../helpers/service';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
});

/** Sends header lines exactly as given (duplicates and all) over a raw socket. */
function rawRequest(path: string, headers: [string, string][], body: string): Promise<{ status: number; errorType?: string; text: string }> {
  const url = new URL(t.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let data = '';
    socket.on('data', (c) => (data += c.toString()));
    socket.on('error', reject);
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      const errorType = /\r\nx-amzn-errortype: ([^\r]+)/i.exec(data)?.[1];
      resolve({ status, errorType, text: data.slice(data.indexOf('\r\n\r\n') + 4) });
    });
    const lines = [`POST ${path} HTTP/1.1`, ...headers.map(([k, v]) => `${k}: ${v}`), `content-length: ${Buffer.byteLength(body)}`, 'connection: close', '', body];
    socket.write(lines.join('\r\n'));
  });
}

async function signed(body: object): Promise<{ headers: [string, string][]; body: string }> {
  const text = JSON.stringify(body);
  const req = await signedRequest(t.url, '/CreateVectorBucket', text);
  return { headers: Object.entries(req.init.headers as Record<string, string>), body: text };
}

const bogus = 'AWS4-HMAC-SHA256 Credential=AKIAUNKNOWN000000000/20260101/us-east-1/s3vectors/aws4_request, SignedHeaders=host;x-amz-date, Signature=' + '0'.repeat(64);

describe('duplicate headers', () => {
  it('the signed request alone is accepted', async () => {
    const r = await signed({ vectorBucketName: uniqueName('dup-ok') });
    expect((await rawRequest('/CreateVectorBucket', r.headers, r.body)).status).toBe(200);
  });

  it.each([
    ['bogus then valid', (valid: string) => [['Authorization', bogus], ['Authorization', valid]]],
    ['valid then bogus', (valid: string) => [['Authorization', valid], ['Authorization', bogus]]],
    ['valid twice', (valid: string) => [['Authorization', valid], ['Authorization', valid]]],
    ['different letter case', (valid: string) => [['authorization', bogus], ['AUTHORIZATION', valid]]],
  ])('two Authorization headers (%s): 400 IncompleteSignatureException, nothing written', async (_name, auths) => {
    const name = uniqueName('dup-auth');
    const r = await signed({ vectorBucketName: name });
    const valid = r.headers.find(([k]) => k.toLowerCase() === 'authorization')![1];
    const others = r.headers.filter(([k]) => k.toLowerCase() !== 'authorization');
    const res = await rawRequest('/CreateVectorBucket', [...others, ...(auths(valid) as [string, string][])], r.body);
    expect({ status: res.status, errorType: res.errorType }).toEqual({ status: 400, errorType: 'IncompleteSignatureException' });
    expect(JSON.parse(res.text).message).toContain('not a valid key=value pair (missing equal-sign) in Authorization header');
    const names = (await t.client.send(new ListVectorBucketsCommand({}))).vectorBuckets?.map((b) => b.vectorBucketName);
    expect(names).not.toContain(name);
  });

  it.each(['x-amz-date', 'content-type', 'host'])('a signed header sent twice (%s): 403 InvalidSignatureException', async (header) => {
    const name = uniqueName('dup-signed');
    const r = await signed({ vectorBucketName: name });
    const value = r.headers.find(([k]) => k.toLowerCase() === header)?.[1] ?? '';
    // The same value again: still refused, the server cannot know which copy was signed.
    const res = await rawRequest('/CreateVectorBucket', [...r.headers, [header, value]], r.body);
    expect({ status: res.status, errorType: res.errorType }).toEqual({ status: 403, errorType: 'InvalidSignatureException' });
  });

  it('an unsigned header sent twice changes nothing', async () => {
    const r = await signed({ vectorBucketName: uniqueName('dup-unsigned') });
    const res = await rawRequest('/CreateVectorBucket', [...r.headers, ['x-extra', 'a'], ['x-extra', 'b']], r.body);
    expect(res.status).toBe(200);
  });
});

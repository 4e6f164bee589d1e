// Issue 10 (8): a body over the 20 MiB limit gets a readable 413 with an error the SDKs model
// (ValidationException, "Request Too Long", as API Gateway words it), not a connection reset.
import { request } from 'node:http';
import { signedRequest } from '../helpers/raw';
import { startTestService, type TestService } from '../helpers/service';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
});

function post(body: Buffer, headers: Record<string, string>, chunked = false): Promise<{ status: number; errorType?: string; text: string }> {
  const url = new URL(t.url);
  return new Promise((resolve, reject) => {
    const h: Record<string, string> = { ...headers };
    if (!chunked) h['content-length'] = String(body.length);
    const req = request({ host: url.hostname, port: url.port, method: 'POST', path: '/PutVectors', headers: h }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, errorType: res.headers['x-amzn-errortype'] as string, text }));
    });
    req.on('error', reject);
    // Written in pieces, as a client streaming a large body does.
    for (let i = 0; i < body.length; i += 1 << 20) req.write(body.subarray(i, i + (1 << 20)));
    req.end();
  });
}

describe('oversized bodies', () => {
  const big = Buffer.alloc(21 * 1024 * 1024, 0x20);

  it.each([
    ['with a content-length', false],
    ['chunked', true],
  ])('21 MiB %s: 413 ValidationException with a message, the connection not reset', async (_n, chunked) => {
    const signed = await signedRequest(t.url, '/PutVectors', '{}');
    const res = await post(big, signed.init.headers as Record<string, string>, chunked as boolean);
    expect({ status: res.status, errorType: res.errorType }).toEqual({ status: 413, errorType: 'ValidationException' });
    expect(JSON.parse(res.text).message).toMatch(/^Request Too Long: the request body is larger than 20971520 bytes/);
  });

  it('the server keeps serving afterwards', async () => {
    const signed = await signedRequest(t.url, '/ListVectorBuckets', '{}');
    const res = await fetch(signed.url, signed.init);
    expect(res.status).toBe(200);
  });
});

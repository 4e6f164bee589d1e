// Probe: ListVectors / QueryVectors tokens: forged, reused, other query, after delete + re-create.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateIndexCommand, CreateVectorBucketCommand, DeleteIndexCommand, DeleteVectorBucketCommand, ListVectorsCommand, PutVectorsCommand, QueryVectorsCommand,
} from '@aws-sdk/client-s3vectors';
import { client, startServer } from './server';

const DIM = 4;
async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'review-tokens-'));
  const server = await startServer(dir, {});
  const c = client(server.url);
  const out: Record<string, string> = {};
  const tryIt = async (name: string, f: () => Promise<unknown>) => {
    try {
      const r = (await f()) as { vectors?: { key?: string }[]; nextToken?: string };
      out[name] = `OK ${r.vectors?.length} first=${r.vectors?.[0]?.key} next=${r.nextToken ? 'yes' : 'no'}`;
    } catch (e) {
      out[name] = `${(e as Error).name} ${(e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode}: ${(e as Error).message.slice(0, 120)}`;
    }
  };
  const setup = async (tag: string) => {
    await c.send(new CreateIndexCommand({ vectorBucketName: 'tok', indexName: 'idx', dataType: 'float32', dimension: DIM, distanceMetric: 'euclidean' }));
    for (let s = 0; s < 600; s += 200)
      await c.send(new PutVectorsCommand({ vectorBucketName: 'tok', indexName: 'idx', vectors: Array.from({ length: 200 }, (_, k) => ({ key: `${tag}-${String(s + k).padStart(4, '0')}`, data: { float32: [s + k, 0, 0, 0] } })) }));
  };
  await c.send(new CreateVectorBucketCommand({ vectorBucketName: 'tok' }));
  await setup('old');
  const q = (nextToken?: string, v = [0, 0, 0, 0], topK = 500) => c.send(new QueryVectorsCommand({ vectorBucketName: 'tok', indexName: 'idx', queryVector: { float32: v }, topK, nextToken }));
  const l = (nextToken?: string, extra = {}) => c.send(new ListVectorsCommand({ vectorBucketName: 'tok', indexName: 'idx', maxResults: 100, nextToken, ...extra }));
  const q1 = await q();
  const l1 = await l();
  const qt = q1.nextToken!;
  const lt = l1.nextToken!;
  out.queryToken = qt;
  out.listTokenLen = String(lt.length);
  const id = qt.split('.')[0];
  await tryIt('q reuse 1', () => q(qt));
  await tryIt('q reuse 2', () => q(qt));
  for (const off of ['-1', '0', '1', '99', '101', '499', '500', '501', '999999999', '9999999999', '1e3', 'abc', '100.5', '0100', '', ' 100']) await tryIt(`q offset ${JSON.stringify(off)}`, () => q(`${id}.${off}`));
  await tryIt('q other vector', () => q(qt, [1, 1, 1, 1]));
  await tryIt('q other topK', () => q(qt, undefined, 400));
  await tryIt('q token as list token', () => l(qt));
  await tryIt('l token as query token', () => q(lt));
  await tryIt('l token other segment', () => l(lt, { segmentCount: 2, segmentIndex: 0 }));
  await tryIt('l token garbage', () => l('AAAA'));
  await tryIt('l token tampered', () => l(lt.slice(0, -2) + (lt.endsWith('A') ? 'BB' : 'AA')));
  await tryIt('l reuse', () => l(lt));
  await tryIt('l reuse again', () => l(lt));
  // Delete + re-create the same name.
  await c.send(new DeleteIndexCommand({ vectorBucketName: 'tok', indexName: 'idx' }));
  await tryIt('q after delete', () => q(qt));
  await tryIt('l after delete', () => l(lt));
  await setup('new');
  await tryIt('q after recreate', () => q(qt));
  await tryIt('l after recreate', () => l(lt));
  // Delete bucket + re-create.
  const q2 = await q();
  const l2 = await l();
  await c.send(new DeleteIndexCommand({ vectorBucketName: 'tok', indexName: 'idx' }));
  await c.send(new DeleteVectorBucketCommand({ vectorBucketName: 'tok' }));
  await c.send(new CreateVectorBucketCommand({ vectorBucketName: 'tok' }));
  await setup('third');
  await tryIt('q after bucket recreate', () => q(q2.nextToken!));
  await tryIt('l after bucket recreate', () => l(l2.nextToken!));
  console.log(JSON.stringify(out, null, 1));
  server.child.kill('SIGTERM');
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
}
main().catch((e) => { console.error(e); process.exit(1); });

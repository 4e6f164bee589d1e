import { startS3rver } from '/work/main/test/helpers/s3rver';
import * as lancedb from '@lancedb/lancedb';
import { DynamoDBClient, CreateTableCommand } from '@aws-sdk/client-dynamodb';
const dynalite = require('dynalite');
async function main() {
  const s3 = await startS3rver(['data']);
  const server = dynalite({ createTableMs: 0 });
  const targets: string[] = [];
  server.prependListener('request', (req: any) => targets.push(String(req.headers['x-amz-target']).split('.')[1]));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const ddb = `http://127.0.0.1:${server.address().port}`;
  const client = new DynamoDBClient({ endpoint: ddb, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  await client.send(new CreateTableCommand({ TableName: 'commits', AttributeDefinitions: [{ AttributeName: 'base_uri', AttributeType: 'S' }, { AttributeName: 'version', AttributeType: 'N' }], KeySchema: [{ AttributeName: 'base_uri', KeyType: 'HASH' }, { AttributeName: 'version', KeyType: 'RANGE' }], BillingMode: 'PAY_PER_REQUEST' }));
  targets.length = 0;
  const opts = { aws_endpoint: s3.endpoint, allow_http: 'true', aws_access_key_id: 'S3RVER', aws_secret_access_key: 'S3RVER', aws_region: 'us-east-1', dynamodb_endpoint: ddb };
  const db = await lancedb.connect('s3+ddb://data/vectors?ddbTableName=commits', { storageOptions: opts, readConsistencyInterval: 0 });
  const t0 = Date.now();
  const tbl = await db.createTable('t', [{ key: 'a', vector: [1, 2] }]);
  console.log('create', Date.now() - t0, [...new Set(targets)], s3.requests.map(r => r.method).join(','));
  targets.length = 0; s3.requests.length = 0;
  for (let i = 0; i < 200; i++) {
    const s = Date.now();
    await tbl.mergeInsert('key').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute([{ key: 'k' + i, vector: [i, 1] }]);
    if (i % 50 === 0 || i === 199) console.log(i, Date.now() - s, 'ms', s3.requests.length);
  }
  console.log('write targets', [...new Set(targets)], [...new Set(s3.requests.map(r => r.method + (r.path.includes('?') ? '?' + r.path.split('?')[1].split('=')[0] : '')))]);
  targets.length = 0; s3.requests.length = 0;
  const db2 = await lancedb.connect('s3+ddb://data/vectors?ddbTableName=commits', { storageOptions: opts, readConsistencyInterval: 0 });
  const t2 = await db2.openTable('t');
  console.log('count', await t2.countRows());
  const r = await t2.vectorSearch([1, 1]).limit(3).toArray();
  console.log('read targets', [...new Set(targets)], [...new Set(s3.requests.map(r => r.method + (r.path.includes('?') ? '?' + r.path.split('?')[1].split('=')[0] : '')))], r.length);
  targets.length = 0; s3.requests.length = 0;
  await db2.dropTable('t');
  console.log('drop targets', [...new Set(targets)], [...new Set(s3.requests.map(r => r.method))]);
  targets.length = 0; s3.requests.length = 0;
  const t3 = await db.createTable('u', [{ key: 'a', vector: [1, 2] }]);
  await t3.optimize({ cleanupOlderThan: new Date() });
  console.log('optimize targets', [...new Set(targets)], [...new Set(s3.requests.map(r => r.method))]);
  process.exit(0);
}
main();

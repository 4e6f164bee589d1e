// dynalite (the local catalog, LevelDB on disk) alone under churn: PutItem → Query (Limit 1) →
// DeleteItem, repeated, printing RSS. `--no-query` leaves the Query out; `--missing` queries a key with no items.
//   npx tsx bench/mem-dynalite.ts [cycles] [every] [--no-query] [--expose-gc through node]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DeleteItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { catalogClient, startDynalite } from '../lambdas/local/dynalite';

async function main(): Promise<void> {
  const [cycles = 6000, every = 1000] = process.argv.slice(2).filter((a) => !a.startsWith('--')).map(Number);
  const query = !process.argv.includes('--no-query');
  const missing = process.argv.includes('--missing');
  const dir = mkdtempSync(join(tmpdir(), 's3v-mem-dyn-'));
  const dynamo = await startDynalite(join(dir, 'catalog'));
  const client = catalogClient(dynamo.address, 'us-east-1');
  const TableName = 'mem-churn';
  await client.send(new CreateTableCommand({ TableName, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }] }));
  const gc = (globalThis as { gc?: () => void }).gc;
  const mb = () => Math.round(process.memoryUsage().rss / 1048576);
  console.log(`cycles\trssMB\theapMB\t(query ${query})`);
  for (let c = 1; c <= cycles; c++) {
    const pk = `bucket-${c}`;
    await client.send(new PutItemCommand({ TableName, Item: { pk: { S: pk }, sk: { S: 'index#a' }, body: { S: 'x'.repeat(300) } } }));
    if (query) await client.send(new QueryCommand({ TableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: missing ? `none-${c}` : pk } }, Limit: 1 }));
    await client.send(new DeleteItemCommand({ TableName, Key: { pk: { S: pk }, sk: { S: 'index#a' } } }));
    if (c % every === 0) {
      gc?.();
      console.log(`${c}\t${mb()}\t${Math.round(process.memoryUsage().heapUsed / 1048576)}`);
    }
  }
  client.destroy();
  await dynamo.close();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoIdentityStore } from '../../lambdas/adapters/dynamo-identities';
import { credentialLookup } from '../../lambdas/core/auth/identities';
import { ConflictError, NotFoundError, ValidationError } from '../../lambdas/core/errors';
// eslint-disable-next-line @typescript-eslint/no-var-requires
const dynalite = require('dynalite');

const TABLE = 'catalog';
const ACCOUNT = '123456789012';
const admin = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });
let server: any;
let client: DynamoDBClient;
let store: DynamoIdentityStore;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new DynamoDBClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  // A catalog item sharing the table must not show up as a user.
  await client.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'BUCKET' }, sk: { S: 'media' } } }));
  store = new DynamoIdentityStore(client, TABLE, () => new Date('2026-01-01T00:00:00Z'));
});

afterAll(async () => {
  client.destroy();
  await new Promise((resolve) => server.close(resolve));
});

describe('DynamoIdentityStore', () => {
  it('creates users, keys and policies and finds them by access key', async () => {
    const user = await store.createUser('alice');
    expect(user).toEqual({ name: 'alice', enabled: true, createdAt: 1767225600, policies: {} });
    const key = await store.createAccessKey('alice');
    expect(key.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(key.secretAccessKey).toHaveLength(40);
    await store.attachPolicy('alice', 'admin', admin);
    const found = await store.findByAccessKey(key.accessKeyId);
    expect(found).toEqual({ user: { ...user, policies: { admin } }, secretAccessKey: key.secretAccessKey });
    expect(await store.findByAccessKey('AKIANOTAKEY')).toBeUndefined();
  });

  it('rejects duplicates, unknown users, bad names and bad policies', async () => {
    await expect(store.createUser('alice')).rejects.toBeInstanceOf(ConflictError);
    await expect(store.createAccessKey('nobody')).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.attachPolicy('nobody', 'p', admin)).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.createUser('bad/name')).rejects.toBeInstanceOf(ValidationError);
    await expect(store.attachPolicy('alice', 'p', '{"Version":"2012-10-17"}')).rejects.toBeInstanceOf(ValidationError);
    await expect(store.setUserEnabled('nobody', false)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists users only, disables them for credential lookup, and deletes them with their keys', async () => {
    await store.createUser('bob');
    const bobKey = await store.createAccessKey('bob');
    expect((await store.listUsers()).map((u) => u.name)).toEqual(['alice', 'bob']);

    const root = { accessKeyId: 'AKIAROOT', secretAccessKey: 'root-secret' };
    const lookup = credentialLookup(store, ACCOUNT, root);
    expect((await lookup('AKIAROOT'))?.principal.principal.arn).toBe(`arn:aws:iam::${ACCOUNT}:root`);
    expect(await lookup(bobKey.accessKeyId)).toEqual({
      secretAccessKey: bobKey.secretAccessKey,
      principal: { principal: { arn: `arn:aws:iam::${ACCOUNT}:user/bob`, accountId: ACCOUNT, userName: 'bob', kind: 'user' }, identityPolicies: [] },
    });
    await store.setUserEnabled('bob', false);
    expect(await lookup(bobKey.accessKeyId)).toBeUndefined();

    await store.deleteUser('bob');
    expect(await store.findByAccessKey(bobKey.accessKeyId)).toBeUndefined();
    expect((await store.listUsers()).map((u) => u.name)).toEqual(['alice']);
    await expect(store.deleteUser('bob')).rejects.toBeInstanceOf(NotFoundError);
  });
});

// IdentityStore on the catalog's DynamoDB table (pk/sk strings). Items, none clashing with the
// catalog's BUCKET / INDEX# / CURSOR# keys:
//   IAMUSER#<name>  USER            the user (enabled, createdAt)
//   IAMUSER#<name>  POLICY#<policy> an inline policy (document)
//   IAMUSER#<name>  KEY#<id>        a pointer to the user's access key, for deleteUser
//   IAMKEY#<id>     KEY             the access key: userName and the secret sealed with the data
//                                   directory's key (sealedSecret); records from before sealing
//                                   hold it in plaintext (secretAccessKey) and are sealed when read
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ConflictError, NotFoundError } from '../core/errors';
import {
  checkAttachPolicy,
  checkUserName,
  generateAccessKey,
  type AccessKey,
  type IamUser,
  type IdentityStore,
  type SecretSealer,
} from '../core/auth/identities';

const USER = 'USER';
const userPk = (name: string) => `IAMUSER#${name}`;
const keyPk = (id: string) => `IAMKEY#${id}`;

const isConditionFailure = (e: unknown) =>
  e instanceof ConditionalCheckFailedException || (e as { name?: string })?.name === 'ConditionalCheckFailedException';

export class DynamoIdentityStore implements IdentityStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly clock: () => Date = () => new Date(),
    /** Without one, secrets are stored in plaintext (only for stores nobody else can read). */
    private readonly sealer?: SecretSealer,
  ) {}

  async findByAccessKey(accessKeyId: string) {
    const key = await this.get(keyPk(accessKeyId), 'KEY');
    if (!key) return undefined;
    const secretAccessKey = await this.secretOf(accessKeyId, key);
    if (secretAccessKey === undefined) return undefined;
    const user = await this.loadUser(key.userName as string);
    return user && { user, secretAccessKey };
  }

  /** The key's secret: unsealed, or (an older plaintext record) sealed now and the plaintext removed. */
  private async secretOf(accessKeyId: string, key: Record<string, unknown>): Promise<string | undefined> {
    if (typeof key.sealedSecret === 'string') {
      if (!this.sealer) throw new Error('the catalog holds sealed secrets, but no secret key was given to open them');
      try {
        return this.sealer.open(key.sealedSecret, accessKeyId);
      } catch {
        // Sealed with another data directory's key (secret.key lost or replaced): the key cannot verify anything.
        return undefined;
      }
    }
    const plain = key.secretAccessKey as string | undefined;
    if (plain !== undefined && this.sealer) {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ pk: keyPk(accessKeyId), sk: 'KEY' }),
          UpdateExpression: 'SET sealedSecret = :s REMOVE secretAccessKey',
          ConditionExpression: 'secretAccessKey = :p',
          ExpressionAttributeValues: marshall({ ':s': this.sealer.seal(plain, accessKeyId), ':p': plain }),
        }),
      ).catch((e) => {
        if (!isConditionFailure(e)) throw e; // sealed meanwhile by another reader
      });
    }
    return plain;
  }

  async createUser(name: string): Promise<IamUser> {
    checkUserName(name);
    const user: IamUser = { name, enabled: true, createdAt: Math.floor(this.clock().getTime() / 1000), policies: {} };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall({ pk: userPk(name), sk: USER, name, enabled: true, createdAt: user.createdAt }),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if (isConditionFailure(e)) throw new ConflictError(`User ${name} already exists.`);
      throw e;
    }
    return user;
  }

  async createAccessKey(userName: string): Promise<AccessKey> {
    await this.requireUser(userName);
    const key = generateAccessKey(userName, this.clock());
    const { secretAccessKey, ...rest } = key;
    const secret = this.sealer ? { sealedSecret: this.sealer.seal(secretAccessKey, key.accessKeyId) } : { secretAccessKey };
    await this.put({ pk: keyPk(key.accessKeyId), sk: 'KEY', ...rest, ...secret });
    await this.put({ pk: userPk(userName), sk: `KEY#${key.accessKeyId}`, createdAt: key.createdAt });
    return key;
  }

  async attachPolicy(userName: string, policyName: string, policyJson: string): Promise<void> {
    checkAttachPolicy(userName, policyName, policyJson);
    await this.requireUser(userName);
    await this.put({ pk: userPk(userName), sk: `POLICY#${policyName}`, document: policyJson });
  }

  async listUsers(): Promise<IamUser[]> {
    const names: string[] = [];
    let start: Record<string, any> | undefined;
    do {
      // Scans are fine here: only the `iam` CLI lists users, and the catalog table is small.
      const page = await this.client.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: 'begins_with(pk, :p) AND sk = :s',
          ExpressionAttributeValues: marshall({ ':p': 'IAMUSER#', ':s': USER }),
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) names.push(unmarshall(item).name as string);
      start = page.LastEvaluatedKey;
    } while (start);
    const users = await Promise.all(names.sort().map((n) => this.loadUser(n)));
    return users.filter((u): u is IamUser => u !== undefined);
  }

  async setUserEnabled(userName: string, enabled: boolean): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ pk: userPk(userName), sk: USER }),
          UpdateExpression: 'SET enabled = :e',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: marshall({ ':e': enabled }),
        }),
      );
    } catch (e) {
      if (isConditionFailure(e)) throw new NotFoundError(`User ${userName} does not exist.`);
      throw e;
    }
  }

  async deleteUser(userName: string): Promise<void> {
    const items = await this.userItems(userName);
    if (!items.some((i) => i.sk === USER)) throw new NotFoundError(`User ${userName} does not exist.`);
    // Keys first, so a half-finished delete never leaves a working key behind a missing user.
    for (const item of items.filter((i) => i.sk.startsWith('KEY#'))) await this.delete(keyPk(item.sk.slice(4)), 'KEY');
    for (const item of items.filter((i) => i.sk !== USER)) await this.delete(item.pk, item.sk);
    await this.delete(userPk(userName), USER);
  }

  private async loadUser(name: string): Promise<IamUser | undefined> {
    const items = await this.userItems(name);
    const profile = items.find((i) => i.sk === USER);
    if (!profile) return undefined;
    const policies: Record<string, string> = {};
    for (const i of items) if (i.sk.startsWith('POLICY#')) policies[i.sk.slice(7)] = i.document as string;
    return { name, enabled: profile.enabled as boolean, createdAt: profile.createdAt as number, policies };
  }

  private async requireUser(name: string): Promise<void> {
    if (!(await this.get(userPk(name), USER))) throw new NotFoundError(`User ${name} does not exist.`);
  }

  private async userItems(name: string): Promise<{ pk: string; sk: string; [k: string]: unknown }[]> {
    const items: { pk: string; sk: string }[] = [];
    let start: Record<string, any> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: marshall({ ':pk': userPk(name) }),
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) items.push(unmarshall(item) as { pk: string; sk: string });
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  private async get(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: marshall({ pk, sk }), ConsistentRead: true }),
    );
    return out.Item && unmarshall(out.Item);
  }

  private async put(item: Record<string, unknown>): Promise<void> {
    await this.client.send(new PutItemCommand({ TableName: this.table, Item: marshall(item) }));
  }

  private async delete(pk: string, sk: string): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.table, Key: marshall({ pk, sk }) }));
  }
}

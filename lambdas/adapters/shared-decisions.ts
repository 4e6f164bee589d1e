// IAM answers shared by every function of the deployment through the catalog table, so a burst of
// cold starts across 22 functions asks IAM once per question instead of once per process:
//   pk AUTHZ#<hash>   sk -   v (JSON), expiresAt (ms), ttl (s, DynamoDB's cleanup)
// `expiresAt` is checked on read (DynamoDB's TTL deletes late, up to days). Items hold only answers
// (a decision, a principal's tags and context keys), keyed by a hash of everything they depend on.
import { GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

export const SHARED_DECISION_PREFIX = 'AUTHZ#';

/** A shared answer and when it stops being valid (ms): a reader must not keep it longer. */
export interface SharedEntry {
  value: unknown;
  expiresAt: number;
}

export interface SharedStore {
  get(key: string, now: number): Promise<SharedEntry | undefined>;
  put(key: string, value: unknown, expiresAt: number): Promise<void>;
}

export class DynamoSharedStore implements SharedStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  private key(key: string) {
    return { pk: { S: `${SHARED_DECISION_PREFIX}${key}` }, sk: { S: '-' } };
  }

  async get(key: string, now: number): Promise<SharedEntry | undefined> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: this.key(key) }));
    const item = out.Item;
    const expiresAt = Number(item?.expiresAt?.N);
    if (!item?.v?.S || !Number.isFinite(expiresAt) || expiresAt <= now) return undefined;
    return { value: JSON.parse(item.v.S) as unknown, expiresAt };
  }

  async put(key: string, value: unknown, expiresAt: number): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: {
          ...this.key(key),
          v: { S: JSON.stringify(value) },
          expiresAt: { N: String(expiresAt) },
          ttl: { N: String(Math.ceil(expiresAt / 1000) + 3600) },
        },
      }),
    );
  }
}

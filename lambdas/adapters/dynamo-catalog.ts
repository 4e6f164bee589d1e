// The catalog on DynamoDB (dynalite locally): one table, string keys pk/sk.
//   pk BUCKET           sk <bucket>   a vector bucket
//   pk INDEX#<bucket>   sk <index>    an index
//   pk CURSOR#<token>   sk -          a pagination cursor, with `ttl` for DynamoDB's expiry
// Records are stored whole as JSON in `doc`; `rev` guards read-modify-write updates.
import {
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ResourceInUseException,
  type AttributeValue,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { ConflictError, Messages, NotFoundError } from '../core/errors';
import type {
  BucketPatch,
  BucketRecord,
  CatalogPort,
  CursorRecord,
  IndexPatch,
  IndexRecord,
  ListRequest,
  ListResult,
} from '../core/ports';

type Item = Record<string, AttributeValue>;

const BUCKETS = 'BUCKET';
const indexPartition = (bucket: string) => `INDEX#${bucket}`;
const cursorPartition = (token: string) => `CURSOR#${token}`;
const MAX_UPDATE_ATTEMPTS = 10;
/** A delete mark older than this was left by a process that died mid-delete, and is ignored. */
const DELETE_MARK_TTL_MS = 30_000;

type MarkedBucket = BucketRecord & { deletingSince?: number };
/**
 * An index whose CreateIndex has not yet checked its bucket: hidden from GetIndex and ListIndexes
 * (so no PutVectors can land in an index whose CreateIndex then backs out). A mark this old was left
 * by a process that died after the check could have passed, and is ignored.
 */
type PendingIndex = IndexRecord & { pendingSince?: number };

function visibleIndex(doc: PendingIndex | undefined): IndexRecord | undefined {
  if (!doc) return undefined;
  const { pendingSince, ...index } = doc;
  return pendingSince !== undefined && Date.now() - pendingSince < DELETE_MARK_TTL_MS ? undefined : index;
}

export class DynamoCatalog implements CatalogPort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  /** Creates the table when missing (local mode; in AWS the stack owns it). */
  async ensureTable(): Promise<void> {
    try {
      await this.client.send(
        new CreateTableCommand({
          TableName: this.table,
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    // A new table is CREATING for a moment (dynalite too, under load); requests before ACTIVE fail.
    await waitUntilTableExists({ client: this.client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: this.table });
  }

  private async getDoc<T>(pk: string, sk: string): Promise<{ doc: T; rev: number } | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return { doc: JSON.parse(Item.doc.S!) as T, rev: Number(Item.rev?.N ?? 0) };
  }

  private async putNew(pk: string, sk: string, doc: unknown, conflict: string): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: { pk: { S: pk }, sk: { S: sk }, doc: { S: JSON.stringify(doc) }, rev: { N: '0' } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new ConflictError(conflict);
      throw error;
    }
  }

  /** Read, change, write back only if nobody wrote in between; retried on a race. */
  private async update<T>(pk: string, sk: string, change: (doc: T) => T, missing: string): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.getDoc<T>(pk, sk);
      if (!current) throw new NotFoundError(missing);
      const next = change(current.doc);
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: { pk: { S: pk }, sk: { S: sk }, doc: { S: JSON.stringify(next) }, rev: { N: String(current.rev + 1) } },
            ConditionExpression: 'rev = :rev',
            ExpressionAttributeValues: { ':rev': { N: String(current.rev) } },
          }),
        );
        return next;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException) || attempt >= MAX_UPDATE_ATTEMPTS) {
          if (error instanceof ConditionalCheckFailedException) {
            throw new ConflictError('The resource was modified concurrently; retry the request');
          }
          throw error;
        }
      }
    }
  }

  private async list<T>(pk: string, request: ListRequest): Promise<ListResult<T>> {
    const items: T[] = [];
    let startKey: Item | undefined = request.after === undefined ? undefined : { pk: { S: pk }, sk: { S: request.after } };
    const prefix = request.prefix;
    do {
      const { Items = [], LastEvaluatedKey } = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: prefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: pk }, ...(prefix ? { ':prefix': { S: prefix } } : {}) },
          ExclusiveStartKey: startKey,
          Limit: request.limit - items.length,
          ConsistentRead: true,
        }),
      );
      for (const item of Items) items.push(JSON.parse(item.doc.S!) as T);
      startKey = LastEvaluatedKey;
    } while (startKey && items.length < request.limit);
    if (!startKey || items.length === 0) return { items };
    // DynamoDB may report a last key even when nothing follows; look once so nextToken means "more".
    const more = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: prefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: pk }, ...(prefix ? { ':prefix': { S: prefix } } : {}) },
        ExclusiveStartKey: startKey,
        Limit: 1,
        Select: 'COUNT',
      }),
    );
    return more.Count ? { items, last: startKey.sk.S } : { items };
  }

  createBucket(bucket: BucketRecord): Promise<void> {
    return this.putNew(BUCKETS, bucket.name, bucket, Messages.bucketExists);
  }

  async getBucket(name: string): Promise<BucketRecord | undefined> {
    return (await this.getDoc<BucketRecord>(BUCKETS, name))?.doc;
  }

  listBuckets(request: ListRequest): Promise<ListResult<BucketRecord>> {
    return this.list(BUCKETS, request);
  }

  // DeleteVectorBucket and CreateIndex must not both succeed (that would leave an index without its
  // bucket, resurfacing if the name is reused). Without transactions (dynalite has none): the delete
  // marks the bucket, then looks for indexes; a create writes its index, then looks for the mark.
  // Whichever order the steps interleave in, one of the two sees the other and backs out.
  async deleteBucket(name: string): Promise<void> {
    const missing = Messages.bucketNotFound;
    await this.update<MarkedBucket>(BUCKETS, name, (bucket) => ({ ...bucket, deletingSince: Date.now() }), missing);
    // Pending indexes count: their CreateIndex sees this mark and backs out, or we see them.
    const indexes = await this.list<PendingIndex>(indexPartition(name), { limit: 1 });
    if (indexes.items.length) {
      await this.update<MarkedBucket>(BUCKETS, name, ({ deletingSince: _, ...bucket }) => bucket, missing).catch(() => undefined);
      throw new ConflictError(Messages.bucketNotEmpty);
    }
    await this.client.send(new DeleteItemCommand({ TableName: this.table, Key: { pk: { S: BUCKETS }, sk: { S: name } } }));
  }

  updateBucket(name: string, patch: BucketPatch): Promise<BucketRecord> {
    return this.update<BucketRecord>(
      BUCKETS,
      name,
      (bucket) => {
        const next: BucketRecord = { ...bucket, ...patch, policy: patch.policy === null ? undefined : (patch.policy ?? bucket.policy) };
        if (next.policy === undefined) delete next.policy;
        return next;
      },
      Messages.bucketNotFound,
    );
  }

  async createIndex(index: IndexRecord): Promise<void> {
    await this.putNew(
      indexPartition(index.bucketName),
      index.name,
      { ...index, pendingSince: Date.now() } satisfies PendingIndex,
      Messages.indexExists,
    );
    const bucket = await this.getDoc<MarkedBucket>(BUCKETS, index.bucketName);
    const beingDeleted = bucket?.doc.deletingSince !== undefined && Date.now() - bucket.doc.deletingSince < DELETE_MARK_TTL_MS;
    if (!bucket || beingDeleted) {
      await this.deleteIndex(index.bucketName, index.name);
      throw new NotFoundError(Messages.bucketNotFound);
    }
    await this.update<PendingIndex>(indexPartition(index.bucketName), index.name, ({ pendingSince: _, ...confirmed }) => confirmed, Messages.indexNotFound);
  }

  async getIndex(bucketName: string, indexName: string): Promise<IndexRecord | undefined> {
    return visibleIndex((await this.getDoc<PendingIndex>(indexPartition(bucketName), indexName))?.doc);
  }

  /**
   * A bucket and (optionally) one of its indexes in one consistent round trip (BatchGetItem): what
   * a request reads before it starts, for its authorization and its use case alike.
   */
  async getBucketAndIndex(bucketName: string, indexName?: string): Promise<{ bucket?: BucketRecord; index?: IndexRecord }> {
    const wanted: Item[] = [{ pk: { S: BUCKETS }, sk: { S: bucketName } }];
    if (indexName !== undefined) wanted.push({ pk: { S: indexPartition(bucketName) }, sk: { S: indexName } });
    const found: Item[] = [];
    let keys: Item[] | undefined = wanted;
    // DynamoDB may leave keys unprocessed under throttling: ask again for those.
    for (let attempt = 0; keys?.length; attempt++) {
      if (attempt) await new Promise((r) => setTimeout(r, Math.min(500, 20 * 2 ** attempt) * Math.random()));
      const out: BatchGetItemCommandOutput = await this.client.send(new BatchGetItemCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } } }));
      found.push(...(out.Responses?.[this.table] ?? []));
      keys = out.UnprocessedKeys?.[this.table]?.Keys;
    }
    const doc = (pk: string) => found.find((item) => item.pk.S === pk)?.doc?.S;
    const bucket = doc(BUCKETS);
    const index = indexName === undefined ? undefined : doc(indexPartition(bucketName));
    return {
      bucket: bucket === undefined ? undefined : (JSON.parse(bucket) as BucketRecord),
      index: index === undefined ? undefined : visibleIndex(JSON.parse(index) as PendingIndex),
    };
  }

  async listIndexes(bucketName: string, request: ListRequest): Promise<ListResult<IndexRecord>> {
    const page = await this.list<PendingIndex>(indexPartition(bucketName), request);
    return { ...page, items: page.items.flatMap((doc) => visibleIndex(doc) ?? []) };
  }

  async deleteIndex(bucketName: string, indexName: string): Promise<void> {
    await this.client.send(
      new DeleteItemCommand({ TableName: this.table, Key: { pk: { S: indexPartition(bucketName) }, sk: { S: indexName } } }),
    );
  }

  updateIndex(bucketName: string, indexName: string, patch: IndexPatch): Promise<IndexRecord> {
    return this.update<IndexRecord>(
      indexPartition(bucketName),
      indexName,
      (index) => ({ ...index, ...patch }),
      Messages.indexNotFound,
    );
  }

  async putCursor(token: string, cursor: CursorRecord): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: {
          pk: { S: cursorPartition(token) },
          sk: { S: '-' },
          doc: { S: JSON.stringify(cursor) },
          ttl: { N: String(Math.ceil(cursor.expiresAt)) },
        },
      }),
    );
  }

  async getCursor(token: string): Promise<CursorRecord | undefined> {
    return (await this.getDoc<CursorRecord>(cursorPartition(token), '-'))?.doc;
  }
}

// Keeps vector keys unique: PutVectors calls on one index run one at a time.
//
// Why a lock: a Lance merge-insert that only inserts rows adds a fragment and touches no existing
// one, so two concurrent merge-inserts of the same new key both commit (Lance 12 records inserted
// keys for conflict detection only on its full-scan path, not on the BTREE-indexed path maintenance
// enables, and forcing the full scan costs ~10× at 1M rows). Serializing the check-and-insert per
// index closes the race: in this process with a queue, across processes (Lambdas, S3 mode) with a
// lease in DynamoDB taken by a conditional write, kept in Lance's own commit table (s3+ddb://), which
// every writer can already write to.
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  PutItemCommand,
  DynamoDBClient,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { ServiceError } from '../../core/errors';

export type Release = () => Promise<void>;

/** One holder at a time per name, in arrival order, within this process. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async acquire(name: string): Promise<() => void> {
    const previous = this.tails.get(name) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(name, tail);
    await previous;
    return () => {
      release();
      if (this.tails.get(name) === tail) this.tails.delete(name);
    };
  }
}

export interface LeaseLockOptions {
  client: DynamoDBClient;
  table: string;
  /** The lock item's primary key for a name. */
  key: (name: string) => Record<string, AttributeValue>;
  /** A holder that died is waited for at most this long. */
  leaseMs?: number;
  /** Give up (and fail the write) after waiting this long. */
  maxWaitMs?: number;
}

/** Other writers held the index too long: AWS's answer to overload, which SDKs retry. */
export class LockTimeoutError extends ServiceError {
  constructor(name: string, waitedMs: number) {
    super('ServiceUnavailableException', 503, `The index is busy with other writes (waited ${waitedMs} ms); retry the request`);
    void name;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const FIRST_BACKOFF_MS = 4;
const MAX_BACKOFF_MS = 250;

/**
 * The wait before attempt `attempt + 1` at a held lease: doubling from 4 ms to 250 ms, the upper half
 * of it random ("equal jitter"). Waiters in several processes spread out instead of polling the
 * table in step, and their calls fall from one every few ms to four a second; the upper half keeps a
 * long waiter looking often enough not to fall far behind a release.
 */
export function leaseBackoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** Math.min(attempt, 16));
  return ceiling / 2 + (random() * ceiling) / 2;
}

/**
 * A lease in DynamoDB: taken when absent or expired (conditional put), renewed while held, deleted
 * by its owner only. A holder killed mid-write blocks the index for at most leaseMs.
 */
export class LeaseLock {
  private readonly leaseMs: number;
  private readonly maxWaitMs: number;

  constructor(private readonly options: LeaseLockOptions) {
    this.leaseMs = options.leaseMs ?? 15_000;
    this.maxWaitMs = options.maxWaitMs ?? 30_000;
  }

  private key(name: string) {
    return this.options.key(name);
  }

  private async tryTake(name: string, owner: string, renew: boolean): Promise<boolean> {
    const now = Date.now();
    try {
      await this.options.client.send(
        new PutItemCommand({
          TableName: this.options.table,
          Item: {
            ...this.key(name),
            owner: { S: owner },
            expiresAtMs: { N: String(now + this.leaseMs) },
          },
          ConditionExpression: renew ? '#o = :owner' : 'attribute_not_exists(#o) OR expiresAtMs < :now OR #o = :owner',
          ExpressionAttributeNames: { '#o': 'owner' },
          ExpressionAttributeValues: renew ? { ':owner': { S: owner } } : { ':owner': { S: owner }, ':now': { N: String(now) } },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  close(): void {
    this.options.client.destroy();
  }

  async acquire(name: string): Promise<Release> {
    const owner = randomBytes(12).toString('hex');
    const started = Date.now();
    for (let attempt = 0; !(await this.tryTake(name, owner, false)); attempt++) {
      const waited = Date.now() - started;
      if (waited > this.maxWaitMs) throw new LockTimeoutError(name, waited);
      // The last wait ends at the deadline, for one more attempt there.
      await sleep(Math.min(leaseBackoffMs(attempt), this.maxWaitMs - waited + 1));
    }
    // Renew at a third of the lease, so a slow write keeps it.
    const renewal = setInterval(() => void this.tryTake(name, owner, true).catch(() => undefined), Math.max(1000, this.leaseMs / 3));
    renewal.unref();
    return async () => {
      clearInterval(renewal);
      try {
        await this.options.client.send(
          new DeleteItemCommand({
            TableName: this.options.table,
            Key: this.key(name),
            ConditionExpression: '#o = :owner',
            ExpressionAttributeNames: { '#o': 'owner' },
            ExpressionAttributeValues: { ':owner': { S: owner } },
          }),
        );
      } catch (error) {
        // Lost it (expired and taken): nothing of ours to delete.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    };
  }
}

/** The store's write serialization: the process queue, then (when configured) the shared lease. */
export class IndexWriteLock {
  private readonly local = new KeyedMutex();
  private readonly lease?: LeaseLock;

  constructor(lease?: LeaseLockOptions) {
    this.lease = lease ? new LeaseLock(lease) : undefined;
  }

  close(): void {
    this.lease?.close();
  }

  async run<T>(name: string, work: () => Promise<T>): Promise<T> {
    const releaseLocal = await this.local.acquire(name);
    try {
      const releaseLease = this.lease ? await this.lease.acquire(name) : undefined;
      try {
        return await work();
      } finally {
        await releaseLease?.().catch(() => undefined);
      }
    } finally {
      releaseLocal();
    }
  }
}

/**
 * The lease for an s3+ddb:// store: items in Lance's commit table (keys base_uri S, version N)
 * under a base_uri no table has. Undefined for other URIs (a local folder has one writer process).
 */
export function commitTableLease(uri: string, storageOptions: Record<string, string> = {}): LeaseLockOptions | undefined {
  if (!uri.startsWith('s3+ddb://')) return undefined;
  const table = new URL(uri).searchParams.get('ddbTableName');
  if (!table) return undefined;
  const keyId = storageOptions.aws_access_key_id;
  const secret = storageOptions.aws_secret_access_key;
  const client = new DynamoDBClient({
    region: storageOptions.aws_region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(storageOptions.dynamodb_endpoint ? { endpoint: storageOptions.dynamodb_endpoint } : {}),
    ...(keyId && secret ? { credentials: { accessKeyId: keyId, secretAccessKey: secret, sessionToken: storageOptions.aws_session_token } } : {}),
  });
  return { client, table, key: (name) => ({ base_uri: { S: `open-s3vectors-write-lock/${name}` }, version: { N: '0' } }) };
}

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
  UpdateItemCommand,
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
/** The waiter holding the next turn: the gap it may leave after a release. */
const NEXT_MAX_BACKOFF_MS = 100;

/**
 * The wait before attempt `attempt + 1` at a held lease: doubling from 4 ms to 250 ms, the upper half
 * of it random ("equal jitter"). Waiters in several processes spread out instead of polling the
 * table in step, and their calls fall from one every few ms to four a second; the upper half keeps a
 * long waiter looking often enough not to fall far behind a release.
 */
export function leaseBackoffMs(attempt: number, random: () => number = Math.random, maxMs = MAX_BACKOFF_MS): number {
  const ceiling = Math.min(maxMs, FIRST_BACKOFF_MS * 2 ** Math.min(attempt, 16));
  return ceiling / 2 + (random() * ceiling) / 2;
}

/** A waiter's claim on the next turn lapses this long after its last refresh (it died, or gave up). */
const RESERVATION_MS = 2_000;

const conditionFailed = (error: unknown) => error instanceof ConditionalCheckFailedException || (error as { name?: string })?.name === 'ConditionalCheckFailedException';

/**
 * A lease in DynamoDB: taken when free or expired (conditional put), renewed while held, given back
 * by its owner only. A holder killed mid-write blocks the index for at most leaseMs.
 *
 * Waiters back off (leaseBackoffMs), which alone would hand the lease to whoever asks first after a
 * release: the releasing process's next local writer, asking at once, while other processes'
 * waiters sleep. So the longest waiter reserves the next turn on the item (nextUp, nextSince = when
 * it started waiting, nextAt = its last refresh); while that reservation is fresh nobody else takes
 * the lease, and the reserved waiter polls often. A release keeps the reservation (the item stays,
 * without an owner) and the reserved waiter's take replaces the item, ending it.
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

  private async tryTake(name: string, owner: string): Promise<boolean> {
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
          ConditionExpression: '(attribute_not_exists(#o) OR expiresAtMs < :now OR #o = :owner) AND (attribute_not_exists(nextUp) OR nextUp = :owner OR nextAt < :stale)',
          ExpressionAttributeNames: { '#o': 'owner' },
          ExpressionAttributeValues: { ':owner': { S: owner }, ':now': { N: String(now) }, ':stale': { N: String(now - RESERVATION_MS) } },
        }),
      );
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw error;
    }
  }

  /** Extends a held lease; false when it is no longer this owner's. */
  private async renew(name: string, owner: string): Promise<boolean> {
    try {
      await this.options.client.send(
        new UpdateItemCommand({
          TableName: this.options.table,
          Key: this.key(name),
          UpdateExpression: 'SET expiresAtMs = :expires',
          ConditionExpression: '#o = :owner',
          ExpressionAttributeNames: { '#o': 'owner' },
          ExpressionAttributeValues: { ':owner': { S: owner }, ':expires': { N: String(Date.now() + this.leaseMs) } },
        }),
      );
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw error;
    }
  }

  /** Claims (or refreshes) the next turn, if nobody who has waited longer holds a fresh claim. */
  private async reserve(name: string, owner: string, since: number): Promise<boolean> {
    const now = Date.now();
    try {
      await this.options.client.send(
        new UpdateItemCommand({
          TableName: this.options.table,
          Key: this.key(name),
          UpdateExpression: 'SET nextUp = :owner, nextSince = :since, nextAt = :now',
          // Only on a held lease (never creating the item); a longer waiter's fresh claim stands.
          ConditionExpression: 'attribute_exists(#o) AND (attribute_not_exists(nextUp) OR nextUp = :owner OR nextAt < :stale OR nextSince > :since)',
          ExpressionAttributeNames: { '#o': 'owner' },
          ExpressionAttributeValues: { ':owner': { S: owner }, ':since': { N: String(since) }, ':now': { N: String(now) }, ':stale': { N: String(now - RESERVATION_MS) } },
        }),
      );
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw error;
    }
  }

  /** Gives up a claim on the next turn (a waiter that timed out), so nobody waits for it to lapse. */
  private async unreserve(name: string, owner: string): Promise<void> {
    await this.options.client
      .send(
        new UpdateItemCommand({
          TableName: this.options.table,
          Key: this.key(name),
          UpdateExpression: 'REMOVE nextUp, nextSince, nextAt',
          ConditionExpression: 'nextUp = :owner',
          ExpressionAttributeValues: { ':owner': { S: owner } },
        }),
      )
      .catch(() => undefined);
  }

  close(): void {
    this.options.client.destroy();
  }

  async acquire(name: string): Promise<Release> {
    const owner = randomBytes(12).toString('hex');
    const started = Date.now();
    let reservedAt = 0;
    let askedAt = 0;
    for (let attempt = 0; !(await this.tryTake(name, owner)); attempt++) {
      const waited = Date.now() - started;
      if (waited > this.maxWaitMs) {
        if (reservedAt) await this.unreserve(name, owner);
        throw new LockTimeoutError(name, waited);
      }
      const now = Date.now();
      const wasNext = reservedAt !== 0;
      // Claimed or refreshed twice a second at most: each ask is a call too.
      if (now - askedAt > RESERVATION_MS / 4) {
        askedAt = now;
        // A claim is an optimization: a failure to make one is not the write's.
        reservedAt = (await this.reserve(name, owner, started).catch(() => false)) ? now : 0;
      }
      // Next in turn: look more often (one such waiter per index); others back off further. A refresh
      // fails on a lease released just now, when the claim still stands: try to take it at once.
      const delay = wasNext && !reservedAt ? 0 : leaseBackoffMs(attempt, Math.random, reservedAt ? NEXT_MAX_BACKOFF_MS : MAX_BACKOFF_MS);
      // The last wait ends at the deadline, for one more attempt there.
      await sleep(Math.min(delay, this.maxWaitMs - waited + 1));
    }
    // Renew at a third of the lease, so a slow write keeps it.
    const renewal = setInterval(() => void this.renew(name, owner).catch(() => undefined), Math.max(1000, this.leaseMs / 3));
    renewal.unref();
    return async () => {
      clearInterval(renewal);
      const mine = { ':owner': { S: owner } };
      try {
        // Nobody waiting: the item goes. Else the owner goes, and the reservation stays.
        await this.options.client.send(
          new DeleteItemCommand({
            TableName: this.options.table,
            Key: this.key(name),
            ConditionExpression: '#o = :owner AND attribute_not_exists(nextUp)',
            ExpressionAttributeNames: { '#o': 'owner' },
            ExpressionAttributeValues: mine,
          }),
        );
      } catch (error) {
        if (!conditionFailed(error)) throw error;
        try {
          await this.options.client.send(
            new UpdateItemCommand({
              TableName: this.options.table,
              Key: this.key(name),
              UpdateExpression: 'REMOVE #o, expiresAtMs',
              ConditionExpression: '#o = :owner',
              ExpressionAttributeNames: { '#o': 'owner' },
              ExpressionAttributeValues: mine,
            }),
          );
        } catch (again) {
          // Lost it (expired and taken): nothing of ours to give back.
          if (!conditionFailed(again)) throw again;
        }
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

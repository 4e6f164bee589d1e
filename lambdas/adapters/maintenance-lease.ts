// A lease in the catalog table so that two maintenance runs never optimize at the same time (a
// scheduled run overlapping a slow previous one, or a manual invoke). One item per name:
//   pk LEASE#<name>   sk -   holder, expiresAt (ms), ttl (s, DynamoDB's cleanup)
// Names: `maintenance` (the default: one run for the whole catalog, the scheduled Lambda's), or
// `index#<storageId>` (indexLeaseName: one runner per index, the shared service's processes).
// Taken with a conditional put (free, or expired); given back with a conditional delete (only by its
// holder). A holder that dies keeps the lease only until it expires, which is set past the run's
// own time limit: Lambda cannot run a handler longer than its timeout.
import { ConditionalCheckFailedException, DeleteItemCommand, GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';

export const LEASE_PREFIX = 'LEASE#';

/** The lease name of one index's maintenance (its storageId is new on every CreateIndex). */
export function indexLeaseName(storageId: string): string {
  return `index#${storageId}`;
}

export interface LeaseOptions {
  name?: string;
  holder?: string;
  now?: () => number;
}

export class MaintenanceLease {
  readonly holder: string;
  private readonly key: { pk: { S: string }; sk: { S: string } };
  private readonly now: () => number;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    options: LeaseOptions = {},
  ) {
    this.holder = options.holder ?? randomUUID();
    this.key = { pk: { S: `${LEASE_PREFIX}${options.name ?? 'maintenance'}` }, sk: { S: '-' } };
    this.now = options.now ?? Date.now;
  }

  /** Takes the lease for `durationMs` if it is free or expired; false when another holder has it. */
  async acquire(durationMs: number): Promise<boolean> {
    return (await this.take(durationMs)).held;
  }

  /**
   * acquire, also telling whether the lease was taken over from a holder that let it lapse without
   * giving it back (`abandonedBy`): that runner died while it held it (a Lambda at its timeout, a
   * killed process or task), in the middle of whatever it was doing.
   */
  async take(durationMs: number): Promise<{ held: boolean; abandonedBy?: string }> {
    const now = this.now();
    const expiresAt = now + durationMs;
    try {
      const out = await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            ...this.key,
            holder: { S: this.holder },
            expiresAt: { N: String(expiresAt) },
            ttl: { N: String(Math.ceil(expiresAt / 1000) + 3600) },
          },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now OR holder = :me',
          ExpressionAttributeValues: { ':now': { N: String(now) }, ':me': { S: this.holder } },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const previous = out?.Attributes?.holder?.S;
      return { held: true, ...(previous !== undefined && previous !== this.holder && { abandonedBy: previous }) };
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException || (e as { name?: string })?.name === 'ConditionalCheckFailedException') return { held: false };
      throw e;
    }
  }

  /** Whether anyone (this holder included) holds the lease now: a consistent read that takes nothing. */
  async isHeld(): Promise<boolean> {
    const { Item } = await this.client.send(new GetItemCommand({ TableName: this.table, Key: this.key, ConsistentRead: true }));
    return Item !== undefined && Number(Item.expiresAt?.N ?? 0) >= this.now();
  }

  /** Gives the lease back; a no-op if it expired and someone else holds it now. */
  async release(): Promise<void> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: this.key,
          ConditionExpression: 'holder = :me',
          ExpressionAttributeValues: { ':me': { S: this.holder } },
        }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException || (e as { name?: string })?.name === 'ConditionalCheckFailedException') return;
      throw e;
    }
  }
}

/** Runs `fn` under the lease, or returns `undefined` at once when another run holds it. */
export async function underLease<T>(lease: MaintenanceLease, durationMs: number, fn: () => Promise<T>): Promise<T | undefined> {
  if (!(await lease.acquire(durationMs))) return undefined;
  try {
    return await fn();
  } finally {
    await lease.release();
  }
}

/** A holder that has not had a renewal confirmed for this share of the lease gives it up (before it lapses). */
export const LOSE_AT_SHARE = 0.8;

/**
 * Renews a held lease every third of `durationMs` (or `everyMs`) until the returned function is called; `onLost`
 * runs once if a renewal finds another holder (this one stalled past the expiry), or if no renewal
 * has been confirmed for LOSE_AT_SHARE of the lease (DynamoDB erroring or unreachable from here, a
 * call hanging): the lease may lapse to another runner, so this one must stop before it does.
 * Call it right after the acquire that took the lease.
 */
export function keepRenewed(
  lease: MaintenanceLease,
  durationMs: number,
  onLost: () => void,
  options: { everyMs?: number; onError?: (error: unknown) => void } = {},
): () => void {
  let lost = false;
  let stopped = false;
  const lose = () => {
    if (lost || stopped) return;
    lost = true;
    onLost();
  };
  // The lease holds until (the confirmed call's send time + durationMs): count from the send.
  let expiry: ReturnType<typeof setTimeout> | undefined;
  const confirmed = (sentAt: number) => {
    if (stopped) return;
    clearTimeout(expiry);
    expiry = setTimeout(lose, Math.max(0, sentAt + durationMs * LOSE_AT_SHARE - Date.now()));
    expiry.unref();
  };
  confirmed(Date.now());
  const timer = setInterval(() => {
    const sentAt = Date.now();
    lease.acquire(durationMs).then(
      (held) => (held ? confirmed(sentAt) : lose()),
      // Retried at the next tick; the expiry timer decides when it is too late.
      (error: unknown) => options.onError?.(error),
    );
  }, options.everyMs ?? durationMs / 3);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
    clearTimeout(expiry);
  };
}

/**
 * Whether an index's maintenance lease is held (by a build job, a run, a server process): the
 * orphan sweep leaves such a table alone, its holder may still be writing to it.
 */
export function indexLeaseHeld(client: DynamoDBClient, table: string): (storageId: string) => Promise<boolean> {
  return (storageId) => new MaintenanceLease(client, table, { name: indexLeaseName(storageId) }).isHeld();
}

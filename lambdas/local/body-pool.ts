// Large request bodies are hashed (SigV4) and JSON-parsed on worker threads, so a 13 MB PutVectors
// does not hold up every other client for the ~100 ms its parse takes. The workers start on first
// use and are unref'd (shutdown never waits for them); any failure of theirs falls back to doing
// the work inline, exactly as without them.
import { availableParallelism } from 'node:os';
import { types } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { ParsedBody } from '../runtime/event-codec';
import { shapes } from '../core/model';
import { BODY_WORKER_SOURCE } from './body-worker';

export interface BodyWorkerSettings {
  /** Worker threads (0: parse every body on the event loop). */
  workers: number;
  /** Bodies at least this large go to a worker; smaller ones parse faster than a round trip. */
  minBytes: number;
}

export const DEFAULT_BODY_WORKER_MIN_BYTES = 256 * 1024;
/**
 * The default on two cores or fewer. There the worker shares the cores with everything else, and a
 * body parsed on it costs ~20% more server CPU than inline (the text decode, the lists packed, the
 * answer sent and rebuilt: 6.1–6.9 vs 5.0–5.3 CPU s per 60,000 × 784-d in 1.1 MB PutVectors,
 * measured A/B), which is ingest throughput when the cores are the limit. Below 2 MiB an inline
 * parse holds the event loop ~5–10 ms on a quiet machine; past it the stall grows faster than the
 * size (52 ms at 4 MiB, 150 ms at 13 MB), which is what the worker is for.
 */
export const FEW_CORES_BODY_WORKER_MIN_BYTES = 2 * 1024 * 1024;

function nonNegativeInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number ≥ 0, got '${raw}'`);
  return value;
}

/**
 * S3V_BODY_WORKERS (default: 1 on two cores, else 2), S3V_BODY_WORKER_MIN_BYTES (default 256 KiB;
 * 2 MiB on two cores or fewer).
 */
export function bodyWorkerSettingsFromEnv(env: NodeJS.ProcessEnv = process.env, cores = availableParallelism()): BodyWorkerSettings {
  return {
    workers: nonNegativeInt(env, 'S3V_BODY_WORKERS', Math.max(1, Math.min(2, cores - 1))),
    minBytes: nonNegativeInt(env, 'S3V_BODY_WORKER_MIN_BYTES', cores <= 2 ? FEW_CORES_BODY_WORKER_MIN_BYTES : DEFAULT_BODY_WORKER_MIN_BYTES),
  };
}

/** The worker's `flat` answer: the body without its vector lists, the lists' values, where each goes. */
interface FlatBody {
  json: string;
  floats: Float32Array;
  places: Int32Array;
}

type Reply = { id: number } & ({ hash: string } | { blank: true } | { invalid: true } | { value: unknown } | { flat: FlatBody } | { fallback: true });

/** The body a `flat` answer describes: each vector's list a view of the one Float32Array. */
function unflatten({ json, floats, places }: FlatBody): unknown {
  const body = JSON.parse(json) as { vectors: { data: { float32: unknown } }[] };
  let at = 0;
  for (let p = 0; p < places.length; p += 2) {
    const length = places[p + 1];
    body.vectors[places[p]].data.float32 = floats.subarray(at, at + length);
    at += length;
  }
  return body;
}

interface Slot {
  worker: Worker;
  /** Answers awaited: id → resolve (undefined: the worker is gone, do it inline). */
  pending: Map<number, (reply: Reply | undefined) => void>;
}

/** One body on a worker: its hash at once, its parse when asked, released when the request ends. */
export interface BodyJob {
  /** The SHA-256 (hex) SigV4 compares; undefined: hash inline. */
  hash: Promise<string | undefined>;
  /** The parsed body; undefined: parse inline. Once per job. */
  parse(): Promise<ParsedBody | undefined>;
  /** Lets the worker forget the body (a no-op once parsed). */
  release(): void;
}

function parsedBody(reply: Reply | undefined): ParsedBody | undefined {
  if (!reply || 'fallback' in reply || 'hash' in reply) return undefined;
  if ('blank' in reply) return { blank: true };
  if ('invalid' in reply) return { invalid: true };
  if ('flat' in reply) {
    try {
      return { value: unflatten(reply.flat) };
    } catch {
      return undefined; // (a body nested too deeply for this thread's stack) parse inline
    }
  }
  return { value: reply.value };
}

const INLINE: BodyJob = { hash: Promise.resolve(undefined), parse: () => Promise.resolve(undefined), release: () => {} };

export class BodyParserPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly size: number) {}

  /**
   * Hands `bytes` (the UTF-8 JSON body) to a worker, which hashes it now and parses it on request.
   * The bytes are moved to the worker: the caller must not read them afterwards. `inputShape`: the
   * operation's, so the worker can cut lists after a bad item (see cutLists in body-worker.ts).
   */
  open(bytes: Buffer, inputShape?: string): BodyJob {
    const slot = this.closed ? undefined : this.pick();
    if (!slot) return INLINE;
    const job = this.nextId++;
    // Transfer the memory when the Buffer owns all of it (a large Buffer.concat does), else a copy.
    const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && types.isArrayBuffer(bytes.buffer);
    const view = owned ? new Uint8Array(bytes.buffer, 0, bytes.byteLength) : new Uint8Array(bytes);
    const hash = this.ask(slot, { job, bytes: view }, [view.buffer as ArrayBuffer]).then((reply) => (reply && 'hash' in reply ? reply.hash : undefined));
    let done = false;
    return {
      hash,
      parse: () => {
        if (done) return Promise.resolve(undefined);
        done = true;
        return this.ask(slot, { job, parse: true, shape: inputShape }).then(parsedBody);
      },
      release: () => {
        if (done) return;
        done = true;
        if (this.slots.includes(slot)) slot.worker.postMessage({ job, drop: true });
      },
    };
  }

  /** Stops the workers; bodies still in them are hashed and parsed inline. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((slot) => this.retire(slot).worker.terminate()));
  }

  private ask(slot: Slot, message: { job: number; bytes?: Uint8Array; parse?: true; shape?: string }, transfer: ArrayBuffer[] = []): Promise<Reply | undefined> {
    if (!this.slots.includes(slot)) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve) => {
      slot.pending.set(id, resolve);
      try {
        slot.worker.postMessage({ ...message, id }, transfer);
      } catch {
        slot.pending.delete(id);
        resolve(undefined);
      }
    });
  }

  /** The least busy worker, starting one while fewer than `size` run and all are busy. */
  private pick(): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of this.slots) if (!best || slot.pending.size < best.pending.size) best = slot;
    if (best && (best.pending.size === 0 || this.slots.length >= this.size)) return best;
    return this.start() ?? best;
  }

  private start(): Slot | undefined {
    if (this.size < 1) return undefined;
    let worker: Worker;
    try {
      worker = new Worker(BODY_WORKER_SOURCE, { eval: true, workerData: { shapes } });
    } catch {
      return undefined;
    }
    worker.unref();
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (reply: Reply) => {
      const resolve = slot.pending.get(reply.id);
      if (!resolve) return;
      slot.pending.delete(reply.id);
      resolve(reply);
    });
    // A reply this thread could not deserialize (a value nested deeper than its smaller stack
    // allows, though the worker's serialized it) carries no id. The worker answers in order, one
    // reply per asked message, so it is the oldest one pending: that job runs inline.
    worker.on('messageerror', () => {
      const oldest = slot.pending.entries().next().value;
      if (!oldest) return;
      slot.pending.delete(oldest[0]);
      oldest[1](undefined);
    });
    // A worker that died (out of memory, killed): its jobs run inline, the next body starts another.
    const lost = () => {
      const index = this.slots.indexOf(slot);
      if (index !== -1) this.slots.splice(index, 1);
      this.retire(slot);
    };
    worker.on('error', lost);
    worker.on('exit', lost);
    this.slots.push(slot);
    return slot;
  }

  private retire(slot: Slot): Slot {
    for (const resolve of slot.pending.values()) resolve(undefined);
    slot.pending.clear();
    return slot;
  }
}

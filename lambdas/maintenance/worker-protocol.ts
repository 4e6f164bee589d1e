// Messages between the local server and its maintenance worker process (worker.ts).
import type { ScalarIndexKind } from '../adapters/lance/lance-store';
import type { VectorIndexParams } from '../adapters/lance/index-stats';
import type { IndexRecord } from '../core/ports';

export type WorkerRequest = { id: number; index: IndexRecord } & (
  | { op: 'vector-index'; params: VectorIndexParams }
  | { op: 'scalar-index'; column: 'key' | 'meta_tokens'; kind: ScalarIndexKind }
  | { op: 'optimize'; pruneOlderThan: number }
  | { op: 'drop-vector-index' }
);

export type WorkerReply = { id: number; ok: true } | { id: number; ok: false; error: string };

/** Sent by the worker every HEARTBEAT_MS, also during a build (Lance builds on its own threads). */
export const HEARTBEAT = { heartbeat: true } as const;
export const HEARTBEAT_MS = 1000;

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
export type WorkerJob = WithoutId<WorkerRequest>;

/** The environment variable that hands the worker its storage options (never argv: /proc/<pid>/cmdline is world-readable). */
export const WORKER_STORAGE_ENV = 'S3V_MAINT_WORKER_STORAGE';

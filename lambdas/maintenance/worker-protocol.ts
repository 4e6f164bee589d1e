// Messages between the local server and its maintenance worker process (worker.ts).
import type { ScalarIndexKind } from '../adapters/lance/lance-store';
import type { VectorIndexParams } from '../adapters/lance/index-stats';
import type { IndexRecord } from '../core/ports';

export type WorkerRequest = { id: number; index: IndexRecord } & (
  | { op: 'vector-index'; params: VectorIndexParams }
  | { op: 'scalar-index'; column: 'key' | 'meta_tokens'; kind: ScalarIndexKind }
  | { op: 'optimize'; pruneOlderThan: number }
);

export type WorkerReply = { id: number; ok: true } | { id: number; ok: false; error: string };

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
export type WorkerJob = WithoutId<WorkerRequest>;

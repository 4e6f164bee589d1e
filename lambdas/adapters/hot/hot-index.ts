// One table's hot index: an HNSW snapshot of the table at version V (usearch, memory-mapped from
// the files snapshot-build.ts wrote) plus the delta of every write this process committed since V.
// A query is the ANN search over the snapshot without the keys the delta touched, merged with an
// exact search over the delta's vectors: what LanceDB would answer, modulo the ANN's recall.
import { closeSync, openSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Index, MetricKind } from 'usearch';
import type { Metadata } from '../../core/ports';
import { FilterIndex, rowFacts, type RowFacts } from './hot-filter';

// Loaded on first use, by a name bundlers do not follow: Lambda bundles (where the hot index is
// off) neither carry nor load the native module.
const USEARCH = 'usearch';
const usearch = (): typeof import('usearch') => require(USEARCH) as typeof import('usearch');

export interface HotHit {
  key: string;
  distance: number;
  /** Set for hits from the delta (the write's own metadata; undefined when it had none). */
  fromDelta?: { metadata?: Metadata };
}

export type HotMetric = 'l2sq' | 'cos';

/** Keys by label, as the .keys file stores them (decoded on demand: only hits are ever decoded). */
class KeyTable {
  private readonly decoder = new TextDecoder();
  private readonly offsets: Uint32Array;
  private readonly bytes: Uint8Array;
  readonly rows: number;
  readonly byteLength: number;

  constructor(file: Buffer) {
    const rows = file.readUInt32LE(0);
    // Copy to an aligned buffer (a Buffer from readFile may sit at any offset of a pool).
    const header = new Uint32Array(rows + 2);
    Buffer.from(header.buffer).set(file.subarray(0, 4 * (rows + 2)));
    this.offsets = header.subarray(1);
    this.bytes = file.subarray(4 * (rows + 2));
    this.rows = rows;
    this.byteLength = file.length;
  }

  key(label: number): string {
    return this.decoder.decode(this.bytes.subarray(this.offsets[label], this.offsets[label + 1]));
  }
}

export type HotQuantization = 'f32' | 'f16';

export class HotSnapshot {
  private closed = false;

  private constructor(
    private readonly index: Index,
    private readonly keys: KeyTable,
    readonly metric: HotMetric,
    readonly bytes: number,
    /** The filterable metadata by label; undefined for a snapshot saved without it. */
    readonly filters: FilterIndex | undefined,
    /** The .vectors file (exact f32 by label), read on demand. */
    private readonly vectorsFd: number,
    readonly dimension: number,
    readonly quantization: HotQuantization,
  ) {}

  get rows(): number {
    return this.keys.rows;
  }

  /** Maps the index file (no copy, no parse: the main thread is not blocked) and reads the keys and filterable tokens. */
  static async open(base: string, dimension: number, metric: HotMetric, m: number, ef: number, quantization: HotQuantization): Promise<HotSnapshot> {
    const keys = new KeyTable(await readFile(`${base}.keys`));
    const filterFile = JSON.parse(await readFile(`${base}.filter`, 'utf8')) as { tokens: [string, number[]][] };
    const filters = new FilterIndex(keys.rows, filterFile.tokens);
    const index = new (usearch().Index)({ dimensions: dimension, metric: metric as MetricKind, quantization: quantization as never, connectivity: m, expansion_add: 0, expansion_search: ef, multi: false });
    index.view(`${base}.usearch`);
    if (index.size() !== keys.rows) throw new Error(`hot snapshot ${base}: ${index.size()} vectors for ${keys.rows} keys`);
    const fd = openSync(`${base}.vectors`, 'r');
    const scalar = quantization === 'f16' ? 2 : 4;
    return new HotSnapshot(index, keys, metric, keys.rows * (dimension * scalar + 2 * m * 4 + 32) + keys.byteLength + filters.bytes, filters, fd, dimension, quantization);
  }

  key(label: number): string {
    return this.keys.key(label);
  }

  /** The `want` nearest labels with their raw distances (l2sq or 1 − cos; approximate when quantized), nearest first. */
  searchLabels(vector: Float32Array, want: number): { label: number; raw: number }[] {
    if (this.rows === 0 || want === 0) return [];
    const found = this.index.search(vector, Math.min(want, this.rows), 1);
    const out: { label: number; raw: number }[] = [];
    for (let i = 0; i < found.keys.length; i++) out.push({ label: Number(found.keys[i]), raw: found.distances[i] });
    return out;
  }

  /** The exact f32 vectors of `labels` (ascending labels read fastest), one matrix. */
  gather(labels: readonly number[]): Float32Array {
    const bytes = this.dimension * 4;
    const out = Buffer.allocUnsafeSlow(labels.length * bytes);
    for (let i = 0; i < labels.length; ) {
      // One read per run of consecutive labels.
      let j = i + 1;
      while (j < labels.length && labels[j] === labels[j - 1] + 1) j++;
      const length = (j - i) * bytes;
      if (readSync(this.vectorsFd, out, i * bytes, length, labels[i] * bytes) !== length) throw new Error('hot snapshot: short read of its vectors file');
      i = j;
    }
    return new Float32Array(out.buffer, out.byteOffset, labels.length * this.dimension);
  }

  /** Exact top `k` among `labels` (raw distances). */
  exact(vector: Float32Array, labels: readonly number[], k: number): { label: number; raw: number }[] {
    if (labels.length === 0 || k === 0) return [];
    const found = usearch().exactSearch(this.gather(labels), vector, this.dimension, Math.min(k, labels.length), this.metric as MetricKind, 1) as { keys: BigUint64Array; distances: Float32Array };
    const out: { label: number; raw: number }[] = [];
    for (let i = 0; i < found.keys.length; i++) out.push({ label: labels[Number(found.keys[i])], raw: found.distances[i] });
    return out;
  }

  /** The `want` nearest labels, with exact distances: a quantized index's candidates are re-ranked with the f32 vectors. */
  search(vector: Float32Array, want: number): { label: number; raw: number }[] {
    if (this.quantization === 'f32') return this.searchLabels(vector, want);
    const candidates = this.searchLabels(vector, Math.min(this.rows, want * 2));
    const labels = candidates.map((c) => c.label).sort((a, b) => a - b);
    return this.exact(vector, labels, want);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.vectorsFd);
  }
}

/**
 * Writes since the snapshot's version: per key touched, its last vector (a slot of one contiguous
 * matrix, searched exactly by usearch's native brute force) or its deletion.
 */
export class HotDelta {
  /** Per key touched: its live slot, or -1 when deleted. */
  private readonly slots = new Map<string, number>();
  private matrix: Float32Array;
  private slotKeys: (string | undefined)[] = [];
  private slotMetadata: (Metadata | undefined)[] = [];
  /** A slot's filterable facts, computed on the first filtered query that meets it. */
  private slotFacts: (RowFacts | undefined)[] = [];
  private dead = 0;

  constructor(
    private readonly dimension: number,
    /** The tokens LanceDB stores for a row's metadata (its filterable keys only). */
    private readonly tokensOf: (metadata: Metadata | undefined) => string[] = () => [],
  ) {
    this.matrix = new Float32Array(16 * dimension);
  }

  /** Keys touched since the snapshot. */
  get size(): number {
    return this.slots.size;
  }

  private get used(): number {
    return this.slotKeys.length;
  }

  private retire(key: string): void {
    const slot = this.slots.get(key);
    if (slot !== undefined && slot >= 0) {
      this.slotKeys[slot] = undefined;
      this.slotMetadata[slot] = undefined;
      this.slotFacts[slot] = undefined;
      this.dead++;
    }
  }

  put(key: string, vector: Float32Array, metadata: Metadata | undefined): void {
    this.retire(key);
    if (this.dead > 64 && this.dead > this.used / 2) this.compact();
    if ((this.used + 1) * this.dimension > this.matrix.length) {
      const grown = new Float32Array(this.matrix.length * 2);
      grown.set(this.matrix.subarray(0, this.used * this.dimension));
      this.matrix = grown;
    }
    this.matrix.set(vector, this.used * this.dimension);
    this.slots.set(key, this.used);
    this.slotKeys.push(key);
    this.slotMetadata.push(metadata);
    this.slotFacts.push(undefined);
  }

  delete(key: string): void {
    this.retire(key);
    this.slots.set(key, -1);
  }

  touched(key: string): boolean {
    return this.slots.has(key);
  }

  /** Drops the slots of overwritten and deleted keys. */
  private compact(): void {
    const keys: string[] = [];
    const metadata: (Metadata | undefined)[] = [];
    const facts: (RowFacts | undefined)[] = [];
    let to = 0;
    for (let from = 0; from < this.used; from++) {
      const key = this.slotKeys[from];
      if (key === undefined) continue;
      this.matrix.copyWithin(to * this.dimension, from * this.dimension, (from + 1) * this.dimension);
      this.slots.set(key, to++);
      keys.push(key);
      metadata.push(this.slotMetadata[from]);
      facts.push(this.slotFacts[from]);
    }
    this.slotKeys = keys;
    this.slotMetadata = metadata;
    this.slotFacts = facts;
    this.dead = 0;
  }

  /** Exact search over the delta's live vectors (raw distances: l2sq or 1 − cos). */
  search(vector: Float32Array, k: number, metric: HotMetric): { key: string; raw: number; metadata?: Metadata }[] {
    const live = this.used - this.dead;
    if (live === 0) return [];
    const want = Math.min(this.used, k + this.dead);
    const found = usearch().exactSearch(this.matrix.subarray(0, this.used * this.dimension), vector, this.dimension, want, metric as MetricKind, 1) as { keys: BigUint64Array; distances: Float32Array };
    const hits: { key: string; raw: number; metadata?: Metadata }[] = [];
    for (let i = 0; i < found.keys.length && hits.length < k; i++) {
      const slot = Number(found.keys[i]);
      const key = this.slotKeys[slot];
      if (key !== undefined) hits.push({ key, raw: found.distances[i], metadata: this.slotMetadata[slot] });
    }
    return hits;
  }

  /** Exact search over the live vectors whose metadata `matches` (a filter). */
  searchWhere(vector: Float32Array, k: number, metric: HotMetric, matches: (row: RowFacts) => boolean): { key: string; raw: number; metadata?: Metadata }[] {
    const slots: number[] = [];
    for (let slot = 0; slot < this.used; slot++) {
      if (this.slotKeys[slot] === undefined) continue;
      const facts = (this.slotFacts[slot] ??= rowFacts(this.tokensOf(this.slotMetadata[slot])));
      if (matches(facts)) slots.push(slot);
    }
    if (slots.length === 0 || k === 0) return [];
    const d = this.dimension;
    const gathered = new Float32Array(slots.length * d);
    slots.forEach((slot, i) => gathered.set(this.matrix.subarray(slot * d, (slot + 1) * d), i * d));
    const found = usearch().exactSearch(gathered, vector, d, Math.min(k, slots.length), metric as MetricKind, 1) as { keys: BigUint64Array; distances: Float32Array };
    const hits: { key: string; raw: number; metadata?: Metadata }[] = [];
    for (let i = 0; i < found.keys.length; i++) {
      const slot = slots[Number(found.keys[i])];
      hits.push({ key: this.slotKeys[slot]!, raw: found.distances[i], metadata: this.slotMetadata[slot] });
    }
    return hits;
  }
}

export function byRawThenKey(a: { raw: number; key: string }, b: { raw: number; key: string }): number {
  return a.raw - b.raw || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** The merged top-K of snapshot ∖ delta keys and the delta, in S3's distances (euclidean: √l2sq). */
/**
 * The query as an f16 index can take it (usearch casts it to the index's scalar): beyond f16's
 * normal range it would be inf or 0, and every distance NaN. A cosine query is scaled (cosine does
 * not depend on scale); a euclidean one cannot be: undefined (LanceDB answers).
 */
export function quantizedQuery(snapshot: HotSnapshot, vector: Float32Array): Float32Array | undefined {
  if (snapshot.quantization === 'f32') return vector;
  let top = 0;
  for (const x of vector) top = Math.max(top, Math.abs(x));
  if (top <= 65504 && (top === 0 || top >= 6.103515625e-5)) return vector;
  return snapshot.metric === 'cos' ? vector.map((x) => x / top) : undefined;
}

export function hotQuery(snapshot: HotSnapshot, delta: HotDelta, vector: Float32Array, k: number): HotHit[] {
  const excluded = delta.size;
  // The snapshot hits the delta overrides are dropped: ask for enough to be left with k.
  let want = excluded === 0 ? k : k + Math.min(excluded, k);
  let kept: { key: string; raw: number; metadata?: Metadata; fromDelta?: boolean }[] = [];
  for (;;) {
    const found = snapshot.search(vector, want).map((h) => ({ key: snapshot.key(h.label), raw: h.raw }));
    kept = found.filter((hit) => !delta.touched(hit.key));
    if (kept.length >= k || found.length < Math.min(want, snapshot.rows) || want >= snapshot.rows || want >= k + excluded) break;
    want = k + excluded;
  }
  const merged = [...kept.slice(0, k), ...delta.search(vector, k, snapshot.metric).map((h) => ({ ...h, fromDelta: true }))];
  merged.sort(byRawThenKey);
  const euclidean = snapshot.metric === 'l2sq';
  return merged.slice(0, k).map((h) => ({
    key: h.key,
    distance: euclidean ? Math.sqrt(Math.max(0, h.raw)) : h.raw,
    ...(h.fromDelta ? { fromDelta: { metadata: h.metadata } } : {}),
  }));
}

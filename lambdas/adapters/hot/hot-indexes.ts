// The hot indexes of one local server process: per Lance table, a snapshot + delta (hot-index.ts)
// answering unfiltered queries in process, LanceDB staying the system of record.
//
// Lifecycle of a table's entry:
// - waiting: a check (on queries, and a while after writes) reads the table's statistics; once it
//   saw no commit for quietMs, its ANN index covers every row (maintenance settled) and it fits the
//   memory budget, a snapshot is loaded (a saved one at the same version) or built in a worker;
// - building/ready: under the index write lock the snapshot's version V is fixed and the delta
//   starts; every write committed afterwards is recorded in the delta under that same lock, so
//   snapshot(V) + delta is the table's content. Queries are served once the snapshot is in memory;
// - dropped (back to waiting): the delta outgrew deltaMax, a write failed (its outcome is unknown),
//   or rows were removed outside PutVectors/DeleteVectors. DeleteIndex forgets the entry and files.
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type * as lancedb from '@lancedb/lancedb';
import type { FilterNode } from '../../core/filter/ast';
import type { IndexRecord, Metadata, VectorBatch } from '../../core/ports';
import { logger } from '../../runtime/logger';
import { readTableStats, vectorIndexOf } from '../lance/index-stats';
import { estimatedBytes, type HotIndexSettings } from './hot-config';
import { HotDelta, HotSnapshot, hotQuery, quantizedQuery, type HotHit, type HotMetric, type HotQuantization } from './hot-index';
import { hotFilteredQuery } from './hot-filtered';
import { metadataTokens } from './hot-filter';
import { buildSnapshot, type RunningBuild } from './snapshot-build';
import { removeSnapshotFiles, savedSnapshot } from './hot-files';

/** More repeated vectors than this share of a table: its hot index is declined (see snapshot-build.ts). */
const MAX_DUPLICATE_SHARE = 0.01;
const log = logger.child({ component: 'hot-index' });

export interface HotHost {
  /** Folder of the Lance tables; snapshots go to <uri>/_hot. */
  uri: string;
  storageOptions?: Record<string, string>;
  /** Runs `work` under the index's write lock (no commit of this process runs meanwhile). */
  underLock<T>(storageId: string, work: () => Promise<T>): Promise<T>;
  /** The index's open table, or undefined (dropped, never written). */
  table(index: IndexRecord): Promise<lancedb.Table | undefined>;
}

type Phase = 'waiting' | 'checking' | 'building' | 'ready';

interface Entry {
  index: IndexRecord;
  phase: Phase;
  /** Bumped whenever the entry is dropped: a build started before is discarded. */
  generation: number;
  /** Waiting: the version and time of the last check, and when to check again. */
  seenVersion?: number;
  seenAt: number;
  nextCheckAt: number;
  version?: number;
  delta?: HotDelta;
  snapshot?: HotSnapshot;
  /** Bytes reserved in the budget (building, ready). */
  reserved: number;
  /** Its last check or start found the budget taken: a release looks at it again. */
  wantsBudget?: boolean;
  timer?: NodeJS.Timeout;
}

export interface HotStats {
  served: number;
  /** Of `served`, filtered queries: by exact search over the matches, by HNSW over-fetch. */
  servedFilteredExact: number;
  servedFilteredHnsw: number;
  /** Filtered queries a ready hot index handed to LanceDB (too few matches found by HNSW). */
  filteredFallbacks: number;
  builds: number;
  loads: number;
  drops: number;
  /** Builds refused because too many of the table's rows repeat another row's vector (LanceDB answers). */
  declined: number;
  /** Why the last drop happened (hot.dropped's reason). */
  lastDrop?: string;
  /** Per storageId: the phase and, when ready, snapshot rows and delta size. */
  tables: Record<string, { phase: Phase; rows?: number; delta?: number; version?: number }>;
}

const metricOf = (index: IndexRecord): HotMetric => (index.distanceMetric === 'euclidean' ? 'l2sq' : 'cos');

export class HotIndexes {
  private readonly entries = new Map<string, Entry>();
  private readonly dir: string;
  private reservedBytes = 0;
  /** Checks in flight: close() waits for them, as they read tables the store is about to close. */
  private readonly checks = new Set<Promise<void>>();
  private closed = false;
  private readonly builds = new Set<RunningBuild>();
  private lastDrop?: string;
  private readonly counters = { served: 0, servedFilteredExact: 0, servedFilteredHnsw: 0, filteredFallbacks: 0, builds: 0, loads: 0, drops: 0, declined: 0 };

  constructor(
    readonly settings: HotIndexSettings,
    private readonly host: HotHost,
  ) {
    this.dir = join(host.uri, '_hot');
  }

  // ---- queries ----

  /** The hot answer, or undefined when the table has no ready hot index (LanceDB answers). */
  query(index: IndexRecord, query: Float32Array, topK: number, filter?: FilterNode): HotHit[] | undefined {
    const entry = this.entries.get(index.storageId);
    const vector = entry?.phase === 'ready' && topK <= this.settings.maxTopK ? quantizedQuery(entry.snapshot!, query) : undefined;
    if (!entry || !vector) return undefined;
    if (!filter) {
      this.counters.served++;
      return hotQuery(entry.snapshot!, entry.delta!, vector, topK);
    }
    const s = this.settings;
    const outcome = hotFilteredQuery(entry.snapshot!, entry.delta!, vector, topK, filter, { exactMax: s.filterExactMax, overfetch: s.filterOverfetch, maxWant: s.filterMaxWant });
    if (outcome.path === 'fallback') {
      this.counters.filteredFallbacks++;
      return undefined;
    }
    this.counters.served++;
    if (outcome.path === 'exact') this.counters.servedFilteredExact++;
    else this.counters.servedFilteredHnsw++;
    return outcome.hits;
  }

  // ---- writes (called under the index write lock, right after the commit) ----

  recordPut(index: IndexRecord, batches: readonly VectorBatch[]): void {
    const entry = this.entry(index);
    this.scheduleCheck(entry);
    if (!entry?.delta) return;
    const dim = entry.index.dimension;
    for (const batch of batches) {
      batch.keys.forEach((key, row) => entry.delta!.put(key, batch.data.subarray(row * dim, (row + 1) * dim), batch.metadata[row] as Metadata | undefined));
    }
    if (entry.delta.size > this.settings.deltaMax) this.drop(entry, 'delta-full');
  }

  recordDelete(index: IndexRecord, keys: readonly string[]): void {
    const entry = this.entry(index);
    this.scheduleCheck(entry);
    if (!entry?.delta) return;
    for (const key of keys) entry.delta.delete(key);
    if (entry.delta.size > this.settings.deltaMax) this.drop(entry, 'delta-full');
  }

  /** A commit of this index failed or changed rows the delta cannot describe: the hot index is no longer known to be right. */
  uncertain(storageId: string, reason: string): void {
    const entry = this.entries.get(storageId);
    if (entry?.delta) this.drop(entry, reason);
  }

  /** A maintenance commit (same rows): a waiting table may be due a quiet period from now. */
  noteCommit(storageId: string): void {
    this.scheduleCheck(this.entries.get(storageId));
  }

  /** DeleteIndex: forget the entry and remove its files. */
  forget(storageId: string): void {
    const entry = this.entries.get(storageId);
    if (entry) {
      this.drop(entry, 'index-deleted');
      clearTimeout(entry.timer);
      this.entries.delete(storageId);
    }
    removeSnapshotFiles(this.dir, `${storageId}.v`);
  }

  stats(): HotStats {
    const tables: HotStats['tables'] = {};
    for (const [id, e] of this.entries) tables[id] = { phase: e.phase, rows: e.snapshot?.rows, delta: e.delta?.size, version: e.version };
    return { ...this.counters, lastDrop: this.lastDrop, tables };
  }

  /** Stops building and looking; resolves once no check is still reading a table (the store closes them next). */
  async close(): Promise<void> {
    this.closed = true;
    // A build outliving the server would write files for a store that is gone (or reopened).
    for (const build of this.builds) build.cancel();
    for (const entry of this.entries.values()) {
      clearTimeout(entry.timer);
      entry.snapshot?.close();
    }
    this.entries.clear();
    await Promise.all([...this.checks]);
  }

  // ---- building ----

  /** After a LanceDB-served query: start watching the table for a snapshot. */
  consider(index: IndexRecord): void {
    if (this.closed) return;
    const entry = this.entry(index);
    if (entry.phase === 'waiting' && Date.now() >= entry.nextCheckAt) {
      const check = this.check(entry).finally(() => this.checks.delete(check));
      this.checks.add(check);
    }
  }

  private entry(index: IndexRecord): Entry {
    let entry = this.entries.get(index.storageId);
    if (!entry) {
      entry = { index, phase: 'waiting', generation: 0, seenAt: 0, nextCheckAt: 0, reserved: 0 };
      this.entries.set(index.storageId, entry);
    }
    return entry;
  }

  /** Look again once the writes stop for quietMs (a single timer per table). */
  private scheduleCheck(entry: Entry | undefined): void {
    if (!entry || this.closed || entry.phase !== 'waiting') return;
    entry.nextCheckAt = Math.max(entry.nextCheckAt, Date.now() + this.settings.quietMs);
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.consider(entry.index), this.settings.quietMs + 50);
    entry.timer.unref();
  }

  private drop(entry: Entry, reason: string): void {
    if (entry.phase === 'building' || entry.phase === 'ready') {
      this.counters.drops++;
      this.lastDrop = reason;
    }
    if (entry.delta) log.info({ event: 'hot.dropped', storageId: entry.index.storageId, reason, delta: entry.delta.size }, 'hot index dropped: LanceDB answers until it is rebuilt');
    entry.generation++;
    entry.phase = 'waiting';
    entry.delta = undefined;
    entry.snapshot?.close();
    entry.snapshot = undefined;
    entry.version = undefined;
    entry.seenVersion = undefined;
    const released = entry.reserved > 0;
    this.reservedBytes -= entry.reserved;
    entry.reserved = 0;
    this.scheduleCheck(entry);
    // Budget freed: a table refused for it has no write or query coming to look again.
    if (released) for (const other of this.entries.values()) if (other !== entry && other.wantsBudget) this.scheduleCheck(other);
  }

  private async check(entry: Entry): Promise<void> {
    const generation = entry.generation;
    entry.phase = 'checking';
    let next: Phase = 'waiting';
    let recheck = false;
    try {
      const table = await this.host.table(entry.index);
      if (!table || generation !== entry.generation) return;
      const stats = await readTableStats(table);
      const now = Date.now();
      const ann = vectorIndexOf(stats);
      const bytes = estimatedBytes(stats.rows + this.settings.deltaMax, entry.index.dimension, this.settings.m, this.settings.quantization);
      const fits = this.reservedBytes + bytes <= this.settings.budgetMb * 1024 * 1024;
      entry.wantsBudget = !fits;
      const saved = await savedSnapshot(this.dir, entry.index.storageId, this.settings);
      if (saved && saved.version === stats.version && saved.rows >= this.settings.minRows && fits) {
        next = await this.start(entry, generation, bytes, saved.base, saved.version, saved.quantization);
        return;
      }
      const quiet = entry.seenVersion === stats.version && now - entry.seenAt >= this.settings.quietMs;
      const settled = !ann || ann.unindexedRows === 0;
      if (quiet && settled && stats.rows >= this.settings.minRows && fits) {
        next = await this.start(entry, generation, bytes, undefined, undefined, undefined);
        return;
      }
      if (!fits && quiet) log.info({ event: 'hot.over-budget', storageId: entry.index.storageId, rows: stats.rows, budgetMb: this.settings.budgetMb }, 'table does not fit the hot index budget');
      if (entry.seenVersion !== stats.version) {
        entry.seenVersion = stats.version;
        entry.seenAt = now;
      }
      entry.nextCheckAt = now + this.settings.quietMs;
      // Only waiting for quiet or for maintenance: look again by itself, so the index is ready
      // for the first query after a settle, not built because of it. Too small or over budget:
      // nothing to wait for (a write or a query looks again).
      if (fits && stats.rows >= this.settings.minRows && !(quiet && settled)) recheck = true;
    } catch (error) {
      log.warn({ event: 'hot.check-failed', storageId: entry.index.storageId, err: error }, 'hot index check failed');
      entry.nextCheckAt = Date.now() + this.settings.quietMs * 6;
    } finally {
      if (generation === entry.generation && entry.phase === 'checking') entry.phase = next;
      if (recheck && generation === entry.generation && entry.phase === 'waiting' && !this.closed) {
        clearTimeout(entry.timer);
        entry.timer = setTimeout(() => this.consider(entry.index), Math.max(0, entry.nextCheckAt - Date.now()) + 50);
        entry.timer.unref();
      }
    }
  }

  /** Fixes the snapshot's version and starts the delta under the write lock, then loads or builds it. */
  private async start(entry: Entry, generation: number, bytes: number, savedBase: string | undefined, savedVersion: number | undefined, savedQuantization: HotQuantization | undefined): Promise<Phase> {
    const id = entry.index.storageId;
    const version = await this.host.underLock(id, async () => {
      const table = await this.host.table(entry.index);
      if (!table || generation !== entry.generation || this.closed) return undefined;
      const v = await table.version();
      if (savedVersion !== undefined && v !== savedVersion) return undefined;
      // Checked again where it is taken (no await in between): two tables' checks run at once.
      if ((entry.wantsBudget = this.reservedBytes + bytes > this.settings.budgetMb * 1024 * 1024)) return undefined;
      entry.version = v;
      const nonFilterable = new Set(entry.index.nonFilterableMetadataKeys);
      entry.delta = new HotDelta(entry.index.dimension, (metadata) => metadataTokens(metadata, nonFilterable));
      entry.phase = 'building';
      entry.reserved = bytes;
      this.reservedBytes += bytes;
      return v;
    });
    if (version === undefined) return 'waiting';
    const started = Date.now();
    let base = savedBase;
    let quantization = savedQuantization ?? this.settings.quantization;
    try {
      if (!base) {
        mkdirSync(this.dir, { recursive: true, mode: 0o700 });
        base = join(this.dir, `${id}.v${version}`);
        const build = buildSnapshot({
          uri: this.host.uri,
          storageOptions: this.host.storageOptions,
          storageId: id,
          version,
          dimension: entry.index.dimension,
          metric: metricOf(entry.index),
          m: this.settings.m,
          efConstruction: this.settings.efConstruction,
          ef: this.settings.ef,
          threads: this.settings.buildThreads,
          base,
          maxRows: Math.floor(bytes / estimatedBytes(1, entry.index.dimension, this.settings.m, this.settings.quantization)),
          maxDuplicateShare: MAX_DUPLICATE_SHARE,
          quantization: this.settings.quantization,
        });
        this.builds.add(build);
        const result = await build.result.finally(() => this.builds.delete(build));
        if (!result.ok && result.reason === 'duplicate-vectors') {
          this.counters.declined++;
          log.info({ event: 'hot.declined', storageId: id, version, reason: result.message }, 'hot index declined (repeated vectors would cost recall): LanceDB answers');
        }
        if (!result.ok) throw new Error(`${result.reason}: ${result.message}`);
        this.counters.builds++;
        quantization = result.quantization;
        log.info({ event: 'hot.built', storageId: id, version, rows: result.rows, readMs: result.readMs, buildMs: result.buildMs }, 'hot index built');
      }
      if (generation !== entry.generation || this.closed) {
        // Dropped or forgotten meanwhile: this build's files are of no use.
        if (!savedBase) removeSnapshotFiles(this.dir, `${basename(base)}.`);
        return 'waiting';
      }
      const opening = Date.now();
      const snapshot = await HotSnapshot.open(base, entry.index.dimension, metricOf(entry.index), this.settings.m, this.settings.ef, quantization);
      const openMs = Date.now() - opening;
      if (generation !== entry.generation || this.closed) {
        snapshot.close();
        return 'waiting';
      }
      if (savedBase) this.counters.loads++;
      entry.snapshot = snapshot;
      entry.phase = 'ready';
      log.info({ event: 'hot.ready', storageId: id, version, rows: snapshot.rows, loaded: savedBase !== undefined, ms: Date.now() - started, openMs }, 'hot index serving queries');
      removeSnapshotFiles(this.dir, `${id}.v`, base);
      return 'ready';
    } catch (error) {
      log.warn({ event: 'hot.build-failed', storageId: id, err: error }, 'hot index build failed: LanceDB answers');
      if (generation === entry.generation) {
        this.drop(entry, 'build-failed');
        entry.nextCheckAt = Date.now() + this.settings.quietMs * 30;
      }
      return 'waiting';
    }
  }
}

import { DEFAULT_MAINTENANCE_CONFIG, annMinRows, maintenanceConfigFromEnv } from '../../lambdas/maintenance/config';
import { compactRetryAt, decide, foldAction } from '../../lambdas/maintenance/decide';
import type { IndexInfo, TableStats } from '../../lambdas/adapters/lance/index-stats';
import { DEFAULT_SEARCH_SETTINGS, needsExactRetry, planSearch, searchSettingsFromEnv } from '../../lambdas/adapters/lance/search-plan';

const config = { ...DEFAULT_MAINTENANCE_CONFIG, annMinRows: 1000, keyIndexMinRows: 5000 };
const NOW = 1_000_000_000;

function stats(rows: number, indices: Partial<IndexInfo>[] = [], extra: Partial<TableStats> = {}): TableStats {
  return {
    rows,
    fragments: 1,
    smallFragments: 1,
    totalBytes: 0,
    version: 10,
    indices: indices.map((i) => ({ name: 'x', type: 'x', columns: [], indexedRows: rows, unindexedRows: 0, segments: 1, ...i })),
    ...extra,
  };
}
const vector = (indexedRows: number, unindexedRows = 0, segments = 1): Partial<IndexInfo> => ({ name: 'vector_idx', type: 'IvfHnswSq', columns: ['vector'], indexedRows, unindexedRows, segments });
const tokens = (unindexedRows = 0): Partial<IndexInfo> => ({ name: 'meta_tokens_idx', type: 'LabelList', columns: ['meta_tokens'], unindexedRows });
const kinds = (d: ReturnType<typeof decide>) => d.actions.map((a) => a.kind);

test('below the ANN threshold nothing is built: exact search', () => {
  expect(kinds(decide(stats(999), 16, { versionAfterRun: 10, lastOptimizeAt: NOW }, config, NOW))).toEqual([]);
});

test('past the threshold: the vector index and the LABEL_LIST index together', () => {
  const d = decide(stats(1000), 16, undefined, config, NOW);
  expect(kinds(d)).toEqual(['vector-index', 'tokens-index', 'optimize']);
  expect(d.actions[0]).toMatchObject({ retrain: false, params: { kind: 'HNSW_SQ', numPartitions: 1, m: 20, efConstruction: 300 } });
  expect(d.nextDueAt).toBe(NOW);
});

test('the default threshold scales with the dimension (flat-search work)', () => {
  expect(annMinRows(DEFAULT_MAINTENANCE_CONFIG, 784)).toBe(6378);
  expect(annMinRows(DEFAULT_MAINTENANCE_CONFIG, 128)).toBe(39063);
});

test('new rows are folded in once enough wait or once they waited long enough; retrain only after growth', () => {
  const state = { trainedRows: 10_000, lastOptimizeAt: NOW - 1000, versionAfterRun: 10 };
  expect(kinds(decide(stats(10_100, [vector(10_000, 100), tokens(100), { columns: ['key'] }]), 16, state, config, NOW))).toEqual([]);
  expect(kinds(decide(stats(16_000, [vector(10_000, 6000), tokens(), { columns: ['key'] }]), 16, state, config, NOW))).toEqual(['optimize']);
  const old = { ...state, lastOptimizeAt: NOW - 31_000 };
  expect(kinds(decide(stats(10_100, [vector(10_000, 100), tokens(), { columns: ['key'] }]), 16, old, config, NOW))).toEqual(['optimize']);
  expect(kinds(decide(stats(10_100, [vector(10_000, 100), tokens(), { columns: ['key'] }]), 16, state, config, NOW, { catchUp: true }))).toEqual(['optimize']);
  const grown = decide(stats(20_000, [vector(15_000, 5000), tokens(), { columns: ['key'] }]), 16, state, config, NOW);
  expect(kinds(grown)).toEqual(['vector-index']);
  expect(grown.actions[0]).toMatchObject({ retrain: true });
  expect(kinds(decide(stats(12_000, [vector(12_000, 0, 8), tokens(), { columns: ['key'] }]), 16, state, config, NOW))).toEqual(['vector-index']);
});

test('key index, compaction and pruning', () => {
  const state = { trainedRows: 10_000, lastOptimizeAt: NOW - 1000, versionAfterRun: 10 };
  expect(kinds(decide(stats(10_000, [vector(10_000), tokens()]), 16, state, config, NOW))).toEqual(['key-index']);
  expect(kinds(decide(stats(800, [], { smallFragments: 40 }), 16, state, config, NOW))).toEqual(['optimize']);
  // Written since the last run and the last prune is older than keepVersionsSeconds.
  const d = decide(stats(800, [], { version: 11 }), 16, { ...state, lastOptimizeAt: NOW - 301_000 }, config, NOW);
  expect(d.actions).toEqual([{ kind: 'optimize', reason: 'old versions to prune' }]);
  // Idle: next due when the versions written since become prunable.
  expect(decide(stats(800, [], { version: 11 }), 16, state, config, NOW).nextDueAt).toBe(NOW - 1000 + 300_000);
  expect(decide(stats(800, []), 16, state, config, NOW).nextDueAt).toBeUndefined();
});

test('configuration from S3V_MAINT_* variables', () => {
  const c = maintenanceConfigFromEnv({ S3V_MAINT_ANN_MIN_ROWS: '5', S3V_MAINT_VECTOR_INDEX: 'IVF_PQ', S3V_MAINT_RETRAIN_GROWTH: '1.5' });
  expect(c).toMatchObject({ annMinRows: 5, vectorIndex: 'IVF_PQ', retrainGrowth: 1.5 });
  expect(() => maintenanceConfigFromEnv({ S3V_MAINT_FOLD_MIN_ROWS: 'x' })).toThrow(/S3V_MAINT_FOLD_MIN_ROWS/);
  expect(searchSettingsFromEnv({ S3V_FAST_SEARCH: '1', S3V_EXACT_FILTER_MAX_ROWS: '10' })).toMatchObject({ fastSearch: true, exactFilterMaxRows: 10 });
});

test('query plans', () => {
  const s = DEFAULT_SEARCH_SETTINGS;
  expect(planSearch({ topK: 10, hasAnnIndex: false, filtered: true, estimatedMatches: 5 }, s)).toEqual({ kind: 'exact', reason: 'no-ann-index' });
  expect(planSearch({ topK: 10, hasAnnIndex: true, filtered: true, estimatedMatches: 600 }, s)).toEqual({ kind: 'exact', reason: 'few-matches' });
  expect(planSearch({ topK: 10, hasAnnIndex: true, filtered: true, estimatedMatches: 6000 }, s)).toMatchObject({ kind: 'ann', ef: s.filteredEf });
  expect(planSearch({ topK: 100, hasAnnIndex: true, filtered: false }, s)).toMatchObject({ kind: 'ann', ef: 300, refineFactor: 2 });
  const ann = planSearch({ topK: 10, hasAnnIndex: true, filtered: false }, s);
  expect(needsExactRetry(ann, 7, 10, 5000)).toBe(true);
  expect(needsExactRetry(ann, 7, 10, 7)).toBe(false);
  expect(needsExactRetry(planSearch({ topK: 10, hasAnnIndex: true, filtered: false }, { ...s, fastSearch: true }), 7, 10, 5000)).toBe(false);
});

test('compaction lost to concurrent writes: back off, fold the new rows in without it', () => {
  const retryAt = NOW + 15_000;
  const state = { trainedRows: 10_000, lastOptimizeAt: NOW - 60_000, versionAfterRun: 9, compactFailures: 1, compactRetryAt: retryAt };
  const lagging = stats(16_000, [vector(10_000, 6000), tokens(6000), { name: 'key_idx', columns: ['key'], unindexedRows: 6000 }], { smallFragments: 40 });
  const d = decide(lagging, 16, state, config, NOW);
  expect(d.actions).toEqual([
    expect.objectContaining({ kind: 'fold', vector: true, columns: ['key', 'meta_tokens'], params: expect.objectContaining({ kind: 'HNSW_SQ' }) }),
  ]);
  // Few rows waiting: only the scalar indexes (cheap) are rebuilt; the ANN index's flat tail is small.
  const few = decide(stats(10_100, [vector(10_000, 100), tokens(100), { name: 'key_idx', columns: ['key'] }]), 16, state, config, NOW);
  expect(few.actions).toEqual([expect.objectContaining({ kind: 'fold', vector: false, columns: ['meta_tokens'] })]);
  // A fold resets the age of the rows waiting; compaction is due again at compactRetryAt.
  const folded = decide(stats(10_100, [vector(10_000, 100), tokens(), { columns: ['key'] }], { smallFragments: 40 }), 16, { ...state, lastFoldAt: NOW - 100 }, config, NOW);
  expect(folded.actions).toEqual([]);
  expect(folded.nextDueAt).toBe(retryAt);
  // Past compactRetryAt, or with catchUp, optimize (compaction and fold) is tried again.
  expect(kinds(decide(lagging, 16, state, config, retryAt))).toEqual(['optimize']);
  expect(kinds(decide(lagging, 16, state, config, NOW, { catchUp: true }))).toEqual(['optimize']);
  // Backoff doubles per loss, up to compactBackoffMaxSeconds.
  expect([1, 2, 3, 10].map((f) => (compactRetryAt(f, config, 0) / 1000))).toEqual([15, 30, 60, 600]);
  // No fold while nothing lags, backing off or not.
  expect(foldAction(stats(10_000, [vector(10_000), tokens(), { columns: ['key'] }]), config)).toBeUndefined();
});

test('backing off with only a few rows waiting: due when compaction may be tried again', () => {
  const state = { trainedRows: 10_000, lastOptimizeAt: NOW - 60_000, versionAfterRun: 10, compactFailures: 2, compactRetryAt: NOW + 30_000 };
  const d = decide(stats(10_100, [vector(10_000, 100), tokens(), { columns: ['key'] }]), 16, state, config, NOW);
  expect(d.actions).toEqual([]);
  expect(d.nextDueAt).toBe(NOW + 30_000);
});

test('a compaction retry time from a clock far ahead does not hold compaction off past the longest backoff', () => {
  // Recorded by a process whose clock was a day ahead (another host sharing the bucket, or this
  // one before its clock was stepped back).
  const state = { trainedRows: 10_000, lastOptimizeAt: NOW - 60_000, versionAfterRun: 9, compactFailures: 3, compactRetryAt: NOW + 86_400_000 };
  const lagging = stats(16_000, [vector(10_000, 6000), tokens(6000), { name: 'key_idx', columns: ['key'], unindexedRows: 6000 }], { smallFragments: 40 });
  expect(kinds(decide(lagging, 16, state, config, NOW))).toEqual(['optimize']);
  // Within the longest backoff it still backs off.
  expect(kinds(decide(lagging, 16, { ...state, compactRetryAt: NOW + 600_000 }, config, NOW))).toEqual(['fold']);
});

// Issue 16 at 1M × 768: the first index was trained at 128,500 rows during ingest; the retrain after
// it was preceded by an optimize that compacted 1,374 fragments (remapping the old index) and then
// folded the other 871,500 rows into the index about to be replaced (still running 10 min later).
test('most rows outside the ANN index: retrain by dropping it, compacting, building — no optimize that folds into it first', () => {
  const state = { trainedRows: 128_500, lastOptimizeAt: NOW - 1000, versionAfterRun: 9 };
  const big = stats(1_000_000, [vector(128_500, 871_500), tokens(871_500), { name: 'key_idx', columns: ['key'], unindexedRows: 871_500 }], { fragments: 1374, smallFragments: 1374 });
  const d = decide(big, 768, state, config, NOW);
  expect(d.actions).toEqual([expect.objectContaining({ kind: 'vector-index', retrain: true, dropFirst: true })]);
  // The same after the state is lost (trainedRows unknown): the index's own counts tell.
  expect(decide(big, 768, undefined, config, NOW).actions).toEqual([expect.objectContaining({ kind: 'vector-index', dropFirst: true })]);
  // One fragment: nothing to compact, the old index serves until the new one commits.
  const compacted = decide({ ...big, fragments: 1, smallFragments: 0 }, 768, state, config, NOW);
  // (then the optimize that folds the scalar indexes, and rows written during the build, into the new one)
  expect(compacted.actions.map((a) => [a.kind, 'dropFirst' in a])).toEqual([['vector-index', false], ['optimize', false]]);
  // Compaction backing off (upserts contend): build over the fragments as they are, keep the old index.
  const backing = decide(big, 768, { ...state, compactFailures: 1, compactRetryAt: NOW + 15_000 }, config, NOW);
  expect(backing.actions.map((a) => [a.kind, 'dropFirst' in a])).toEqual([['vector-index', false], ['fold', false]]);
});

test('retrain rather than fold once the unindexed rows reach retrainUnindexedRatio × indexed, whatever the growth rule says', () => {
  const lax = { ...config, retrainGrowth: 10 };
  const state = { trainedRows: 10_000, lastOptimizeAt: NOW - 1000, versionAfterRun: 9 };
  const half = stats(30_000, [vector(10_000, 20_000), tokens(20_000), { columns: ['key'], unindexedRows: 20_000 }], { fragments: 40, smallFragments: 40 });
  expect(decide(half, 16, state, lax, NOW).actions).toEqual([expect.objectContaining({ kind: 'vector-index', retrain: true, dropFirst: true })]);
  expect(maintenanceConfigFromEnv({ S3V_MAINT_RETRAIN_UNINDEXED_RATIO: '0.5' }).retrainUnindexedRatio).toBe(0.5);
  // Below the ratio (Fashion-MNIST: 2,500 rows into 60,000): the cheap fold, an optimize.
  const few = stats(62_500, [vector(60_000, 2500), tokens(2500), { columns: ['key'], unindexedRows: 2500 }], { fragments: 6, smallFragments: 5 });
  expect(kinds(decide(few, 784, { ...state, trainedRows: 60_000 }, lax, NOW, { catchUp: true }))).toEqual(['optimize']);
  // Retrained for its segments (most rows indexed): the old index stays until the new one commits.
  const segmented = decide(stats(12_000, [vector(11_000, 1000, 8), tokens(), { columns: ['key'] }], { fragments: 5 }), 16, { ...state, trainedRows: 11_000 }, config, NOW);
  expect(segmented.actions.map((a) => [a.kind, 'dropFirst' in a])).toEqual([['optimize', false], ['vector-index', false]]);
});

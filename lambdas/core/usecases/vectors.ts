import { createHash } from 'node:crypto';
import type { Deps } from '../deps';
import { ValidationError } from '../errors';
import { parseFilter } from '../filter/parse';
import { findIndex } from '../lookup';
import { checkMetadata } from '../metadata';
import { KeyRanges } from '../pagination/key-ranges';
import { RankedPages } from '../pagination/ranked-pages';
import type { IndexMode, IndexRecord, Metadata, QueryHit, StoredVector } from '../ports';
import type {
  DeleteVectorsInput,
  Empty,
  GetVectorsInput,
  GetVectorsOutput,
  ListVectorsInput,
  ListVectorsOutput,
  PutVectorsInput,
  QueryVectorsInput,
  QueryVectorsOutput,
  WireDocument,
} from '../wire';
import { readingIndex, writingIndex } from './index-guard';
import { toWire, writeFloat32 } from './vector-data';

const DEFAULT_LIST_MAX_RESULTS = 500;

/** Keys are stored as UTF-8: a lone UTF-16 surrogate cannot be, and would come back as another key. */
function checkKey(key: string, path: string): void {
  if (!key.isWellFormed()) throw ValidationError.field(path, 'Vector keys must be valid Unicode (no unpaired surrogates)');
}

function nonFilterable(index: IndexRecord): ReadonlySet<string> {
  return new Set(index.nonFilterableMetadataKeys);
}

export async function putVectors(deps: Deps, input: PutVectorsInput): Promise<Empty> {
  const index = await findIndex(deps, input);
  const vectors = input.vectors!;
  // The last occurrence of a key in one request wins, as a sequence of upserts would.
  const lastPosition = new Map<string, number>();
  vectors.forEach((v, i) => lastPosition.set(v.key!, i));
  const keys: string[] = [];
  const metadata: (Metadata | undefined)[] = [];
  const data = new Float32Array(lastPosition.size * index.dimension);
  const context = { nonFilterableKeys: nonFilterable(index), limits: deps.config.limits };
  const scratch = new Float32Array(index.dimension);
  vectors.forEach((vector, i) => {
    checkKey(vector.key!, `/vectors/${i}/key`);
    // Every entry is validated, even one a later entry with the same key replaces.
    const kept = lastPosition.get(vector.key!) === i;
    const target = kept ? data : scratch;
    writeFloat32(index, vector.data!.float32!, target, kept ? keys.length * index.dimension : 0, `/vectors/${i}/data/float32`, vector.key!);
    const checked =
      vector.metadata === undefined ? undefined : checkMetadata(vector.metadata, `/vectors/${i}/metadata`, { ...context, recordKey: vector.key! });
    if (!kept) return;
    metadata.push(checked);
    keys.push(vector.key!);
  });
  await writingIndex(deps, index, () => deps.store.put(index, { keys, data, metadata }));
  return {};
}

/** `withMetadata`: returnMetadata was asked; a vector stored without metadata then has `{}`, as on AWS. */
function outputVector(vector: StoredVector, withMetadata: boolean): { key: string; data?: { float32: number[] }; metadata?: WireDocument } {
  return {
    key: vector.key,
    ...(vector.data ? { data: toWire(vector.data) } : {}),
    ...(withMetadata ? { metadata: (vector.metadata ?? {}) as WireDocument } : {}),
  };
}

export async function getVectors(deps: Deps, input: GetVectorsInput): Promise<GetVectorsOutput> {
  const index = await findIndex(deps, input);
  input.keys!.forEach((key, i) => checkKey(key, `/keys/${i}`));
  const keys = [...new Set(input.keys!)];
  const found = await readingIndex(deps, index, () => deps.store.get(index, keys, { data: !!input.returnData, metadata: !!input.returnMetadata }));
  const byKey = new Map(found.map((v) => [v.key, v]));
  // Request order; keys that do not exist are left out.
  const vectors = keys.flatMap((key) => (byKey.has(key) ? [outputVector(byKey.get(key)!, !!input.returnMetadata)] : []));
  return { vectors };
}

export async function deleteVectors(deps: Deps, input: DeleteVectorsInput): Promise<Empty> {
  const index = await findIndex(deps, input);
  input.keys!.forEach((key, i) => checkKey(key, `/keys/${i}`));
  await writingIndex(deps, index, () => deps.store.delete(index, [...new Set(input.keys!)]));
  return {};
}

export async function listVectors(deps: Deps, input: ListVectorsInput): Promise<ListVectorsOutput> {
  const index = await findIndex(deps, input);
  const { segmentCount, segmentIndex } = input;
  if ((segmentCount === undefined) !== (segmentIndex === undefined)) {
    throw ValidationError.field(
      segmentCount === undefined ? '/segmentCount' : '/segmentIndex',
      'segmentCount and segmentIndex must be provided together',
    );
  }
  if (segmentCount !== undefined && segmentIndex! >= segmentCount) {
    throw ValidationError.field('/segmentIndex', `segmentIndex must be less than segmentCount (${segmentCount})`);
  }
  const segment = { segmentCount: segmentCount ?? 1, segmentIndex: segmentIndex ?? 0 };
  const scope = `ListVectors\n${index.arn}\n${index.storageId}\n${segment.segmentCount}/${segment.segmentIndex}`;
  const page = await readingIndex(deps, index, () =>
    new KeyRanges(deps.cursors, deps.store).page(
      index,
      scope,
      segment,
      input.maxResults ?? DEFAULT_LIST_MAX_RESULTS,
      { data: !!input.returnData, metadata: !!input.returnMetadata },
      input.nextToken,
    ),
  );
  // A page also ends once its vectors reach the response size cap (1 MB at AWS).
  const vectors: ReturnType<typeof outputVector>[] = [];
  let bytes = 0;
  let cut = false;
  for (const stored of page.items) {
    const vector = outputVector(stored, !!input.returnMetadata);
    const size = Buffer.byteLength(JSON.stringify(vector));
    if (vectors.length > 0 && bytes + size > deps.config.limits.maxListVectorsPageBytes) {
      cut = true;
      break;
    }
    bytes += size;
    vectors.push(vector);
  }
  const nextToken = cut ? await page.tokenAfter(vectors[vectors.length - 1].key) : page.more ? await page.tokenAfter() : undefined;
  return { vectors, ...(nextToken ? { nextToken } : {}) };
}

function effectiveMode(index: IndexRecord, queryMode: IndexMode | undefined): IndexMode {
  if (queryMode === 'CLASSIC' && index.indexMode === 'ENHANCED') {
    throw ValidationError.field('/queryMode', 'queryMode CLASSIC cannot be used with an ENHANCED index');
  }
  return queryMode ?? index.indexMode;
}

/** What a QueryVectors nextToken continues: the same query on the same index. */
function queryScope(index: IndexRecord, input: QueryVectorsInput): string {
  const hash = createHash('sha256')
    .update(JSON.stringify([input.queryVector, input.topK, input.filter ?? null, input.queryMode ?? null]))
    .digest('base64url');
  return `QueryVectors\n${index.arn}\n${index.storageId}\n${hash}`;
}

export async function queryVectors(deps: Deps, input: QueryVectorsInput): Promise<QueryVectorsOutput> {
  const index = await findIndex(deps, input);
  const topK = input.topK!;
  if (topK > deps.config.limits.maxTopK) {
    throw ValidationError.field('/topK', `topK must be less than or equal to ${deps.config.limits.maxTopK}`);
  }
  const vector = new Float32Array(index.dimension);
  writeFloat32(index, input.queryVector!.float32!, vector, 0, '/queryVector/float32');
  const mode = effectiveMode(index, input.queryMode);
  const filter =
    input.filter === undefined
      ? undefined
      : parseFilter(input.filter, { nonFilterableKeys: nonFilterable(index), indexMode: mode, limits: deps.config.limits });
  const pageSize = deps.config.limits.queryPageSize;
  const pages = new RankedPages(deps.cursors);
  let page: QueryHit[];
  let nextToken: string | undefined;
  if (input.nextToken) {
    // Later pages read the ranking the first page's search kept; metadata is read for the page's keys.
    const next = await pages.next(input.nextToken, queryScope(index, input), pageSize);
    const stored = input.returnMetadata ? await readingIndex(deps, index, () => deps.store.get(index, next.hits.map((h) => h.key), { data: false, metadata: true })) : [];
    const metadata = new Map(stored.map((v) => [v.key, v.metadata]));
    page = next.hits.map((hit) => ({ ...hit, ...(metadata.get(hit.key) ? { metadata: metadata.get(hit.key) } : {}) }));
    nextToken = next.nextToken;
  } else {
    const hits = await readingIndex(deps, index, () => deps.store.query(index, { vector, topK, filter, metadata: !!input.returnMetadata }));
    page = hits.slice(0, pageSize);
    // The scope (a hash of the query) is only needed when there is a next page.
    nextToken = hits.length > pageSize ? await pages.first(queryScope(index, input), hits, pageSize) : undefined;
  }
  return {
    vectors: page.map((hit) => ({
      key: hit.key,
      ...(input.returnDistance ? { distance: hit.distance } : {}),
      ...(input.returnMetadata ? { metadata: (hit.metadata ?? {}) as WireDocument } : {}),
    })),
    distanceMetric: index.distanceMetric,
    ...(nextToken ? { nextToken } : {}),
  };
}

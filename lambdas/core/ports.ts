// The two storage ports the use cases depend on. Adapters: DynamoDB catalog, LanceDB vector store.
import type { FilterNode } from './filter/ast';

export type IndexMode = 'CLASSIC' | 'ENHANCED';
export type DistanceMetric = 'cosine' | 'euclidean';
export type Metadata = Record<string, unknown>;
export type Tags = Record<string, string>;

export interface Encryption {
  sseType: 'AES256' | 'aws:kms';
  kmsKeyArn?: string;
}

export interface BucketRecord {
  name: string;
  arn: string;
  /** Epoch seconds. */
  creationTime: number;
  encryption: Encryption;
  defaultIndexMode: IndexMode;
  tags: Tags;
  policy?: string;
}

export interface IndexRecord {
  bucketName: string;
  name: string;
  arn: string;
  creationTime: number;
  dataType: 'float32';
  dimension: number;
  distanceMetric: DistanceMetric;
  nonFilterableMetadataKeys: string[];
  encryption: Encryption;
  indexMode: IndexMode;
  tags: Tags;
  /** Names the vector table; new on every CreateIndex so a re-created index starts empty. */
  storageId: string;
}

export interface ListRequest {
  prefix?: string;
  limit: number;
  /** Resume strictly after this name. */
  after?: string;
}

export interface ListResult<T> {
  items: T[];
  /** Set when more items may follow: the name to resume after. */
  last?: string;
}

export type BucketPatch = Partial<Pick<BucketRecord, 'tags' | 'defaultIndexMode'>> & {
  /** null removes the policy. */
  policy?: string | null;
};
export type IndexPatch = Partial<Pick<IndexRecord, 'tags' | 'indexMode'>>;

export interface CursorRecord {
  /** What the cursor belongs to: the operation and resource, checked on every use. */
  scope: string;
  state: unknown;
  /** Epoch seconds. */
  expiresAt: number;
}

export interface CatalogPort {
  createBucket(bucket: BucketRecord): Promise<void>;
  getBucket(name: string): Promise<BucketRecord | undefined>;
  listBuckets(request: ListRequest): Promise<ListResult<BucketRecord>>;
  /** Fails with ConflictError when the bucket still has indexes. */
  deleteBucket(name: string): Promise<void>;
  updateBucket(name: string, patch: BucketPatch): Promise<BucketRecord>;

  createIndex(index: IndexRecord): Promise<void>;
  getIndex(bucketName: string, indexName: string): Promise<IndexRecord | undefined>;
  listIndexes(bucketName: string, request: ListRequest): Promise<ListResult<IndexRecord>>;
  deleteIndex(bucketName: string, indexName: string): Promise<void>;
  updateIndex(bucketName: string, indexName: string, patch: IndexPatch): Promise<IndexRecord>;

  putCursor(id: string, cursor: CursorRecord): Promise<void>;
  getCursor(id: string): Promise<CursorRecord | undefined>;
}

/** Vectors of one PutVectors request, laid out for a single columnar write. */
export interface VectorBatch {
  keys: string[];
  /** keys.length × dimension values, row after row. */
  data: Float32Array;
  metadata: (Metadata | undefined)[];
}

export interface StoredVector {
  key: string;
  data?: Float32Array;
  metadata?: Metadata;
}

export interface ReadOptions {
  data: boolean;
  metadata: boolean;
}

export interface ListVectorsRequest extends ReadOptions {
  segmentCount: number;
  segmentIndex: number;
  limit: number;
  /** Resume strictly after this key. */
  after?: string;
  /** List keys up to and including this one (a range's fence); none: to the end. */
  upper?: string;
}

export interface QueryRequest {
  vector: Float32Array;
  topK: number;
  filter?: FilterNode;
  metadata: boolean;
}

export interface QueryHit {
  key: string;
  distance: number;
  metadata?: Metadata;
}

export interface VectorStorePort {
  createIndex(index: IndexRecord): Promise<void>;
  dropIndex(index: IndexRecord): Promise<void>;
  /** Upsert by key, in one commit. */
  put(index: IndexRecord, batch: VectorBatch): Promise<void>;
  get(index: IndexRecord, keys: string[], options: ReadOptions): Promise<StoredVector[]>;
  delete(index: IndexRecord, keys: string[]): Promise<void>;
  /** Keys in ascending order within the segment and range; `last` is set when more may follow. */
  list(index: IndexRecord, request: ListVectorsRequest): Promise<ListResult<StoredVector>>;
  /** Every `every`-th key of the segment in ascending order, and its last key: range bounds for ListVectors pages. */
  keyFences(index: IndexRecord, segmentCount: number, segmentIndex: number, every: number): Promise<string[]>;
  /** Nearest first, at most topK. */
  query(index: IndexRecord, request: QueryRequest): Promise<QueryHit[]>;
  close(): Promise<void>;
}

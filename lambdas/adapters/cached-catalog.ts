// Bucket and index records cached in process, for a catalog with one writer: the local server.
// Every catalog write goes through this object and refreshes or drops its entry, so reads stay
// exact; a hit saves the one or two DynamoDB round trips each request (and each of its
// authorization checks) would otherwise make. Not for Lambda, where many processes write.
import type {
  BucketPatch,
  BucketRecord,
  CatalogPort,
  CursorRecord,
  IndexPatch,
  IndexRecord,
  ListRequest,
  ListResult,
} from '../core/ports';

export class CachedCatalog implements CatalogPort {
  private readonly buckets = new Map<string, Promise<BucketRecord | undefined>>();
  private readonly indexes = new Map<string, Promise<IndexRecord | undefined>>();

  constructor(private readonly inner: CatalogPort) {}

  private static indexKey(bucketName: string, indexName: string): string {
    return `${bucketName}/${indexName}`;
  }

  private remember<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
    let entry = cache.get(key);
    if (!entry) {
      entry = load();
      cache.set(key, entry);
      // Only what exists is kept: names that are not there do not fill memory.
      const forget = () => cache.get(key) === entry && cache.delete(key);
      entry.then((value) => value === undefined && forget(), forget);
    }
    return entry;
  }

  async createBucket(bucket: BucketRecord): Promise<void> {
    this.buckets.delete(bucket.name);
    await this.inner.createBucket(bucket);
    this.buckets.delete(bucket.name);
  }

  getBucket(name: string): Promise<BucketRecord | undefined> {
    return this.remember(this.buckets, name, () => this.inner.getBucket(name));
  }

  listBuckets(request: ListRequest): Promise<ListResult<BucketRecord>> {
    return this.inner.listBuckets(request);
  }

  async deleteBucket(name: string): Promise<void> {
    try {
      await this.inner.deleteBucket(name);
    } finally {
      this.buckets.delete(name);
    }
  }

  async updateBucket(name: string, patch: BucketPatch): Promise<BucketRecord> {
    try {
      const updated = await this.inner.updateBucket(name, patch);
      this.buckets.set(name, Promise.resolve(updated));
      return updated;
    } catch (error) {
      this.buckets.delete(name);
      throw error;
    }
  }

  async createIndex(index: IndexRecord): Promise<void> {
    const key = CachedCatalog.indexKey(index.bucketName, index.name);
    this.indexes.delete(key);
    await this.inner.createIndex(index);
    this.indexes.delete(key);
  }

  getIndex(bucketName: string, indexName: string): Promise<IndexRecord | undefined> {
    return this.remember(this.indexes, CachedCatalog.indexKey(bucketName, indexName), () => this.inner.getIndex(bucketName, indexName));
  }

  listIndexes(bucketName: string, request: ListRequest): Promise<ListResult<IndexRecord>> {
    return this.inner.listIndexes(bucketName, request);
  }

  async deleteIndex(bucketName: string, indexName: string): Promise<void> {
    try {
      await this.inner.deleteIndex(bucketName, indexName);
    } finally {
      this.indexes.delete(CachedCatalog.indexKey(bucketName, indexName));
    }
  }

  async updateIndex(bucketName: string, indexName: string, patch: IndexPatch): Promise<IndexRecord> {
    const key = CachedCatalog.indexKey(bucketName, indexName);
    try {
      const updated = await this.inner.updateIndex(bucketName, indexName, patch);
      this.indexes.set(key, Promise.resolve(updated));
      return updated;
    } catch (error) {
      this.indexes.delete(key);
      throw error;
    }
  }

  putCursor(id: string, cursor: CursorRecord): Promise<void> {
    return this.inner.putCursor(id, cursor);
  }

  getCursor(id: string): Promise<CursorRecord | undefined> {
    return this.inner.getCursor(id);
  }
}

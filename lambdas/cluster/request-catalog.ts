// One catalog read per request on a shared catalog. A request reads its bucket and index records
// several times before it touches the vectors (authorization: the bucket's policy and tags, the
// index's tags; the use case: the index itself); every one of those was a consistent GetItem. Here
// they are served from one consistent BatchGetItem taken at the first of them, which is after the
// request arrived: whatever any process acknowledged before that (a DeleteIndex, a re-created index
// with a new storageId, a new policy) is in it. Nothing is kept past the request, and once the
// request writes the catalog or touches the store every read goes to DynamoDB again: the checks
// after a store call (was the index deleted meanwhile? ./core/usecases/index-guard) must see
// what happened during it, or a write into a deleted index could be acknowledged.
import type { DynamoCatalog } from '../adapters/dynamo-catalog';
import type { Deps } from '../core/deps';
import type { BucketPatch, BucketRecord, CatalogPort, CursorRecord, IndexPatch, IndexRecord, ListRequest, ListResult, VectorStorePort } from '../core/ports';
import { resolveBucket, resolveIndex, type BucketRef, type IndexRef } from '../core/resources';
import type { Step } from '../runtime/pipeline';

export type SnapshotSource = Pick<DynamoCatalog, 'getBucketAndIndex'> & CatalogPort;

/** The bucket (and index) a request names, if its input names one; undefined for anything else. */
export function requestTarget(deps: Pick<Deps, 'config'>, input: Record<string, unknown>): { bucket: string; index?: string } | undefined {
  try {
    if (input.indexArn !== undefined || input.indexName !== undefined) {
      const { bucket, index } = resolveIndex(deps.config, input as IndexRef);
      return { bucket, index };
    }
    if (input.vectorBucketName !== undefined || input.vectorBucketArn !== undefined) return { bucket: resolveBucket(deps.config, input as BucketRef) };
  } catch {
    // Bad references are the use case's to refuse, with its own message.
  }
  return undefined;
}

export class RequestCatalog implements CatalogPort {
  private live = true;
  private snapshot?: Promise<{ bucket?: BucketRecord; index?: IndexRecord }>;

  constructor(
    private readonly inner: SnapshotSource,
    private readonly target: { bucket: string; index?: string } | undefined,
  ) {}

  /** From now on every read goes to the catalog (the request wrote, or touched the store). */
  expire(): void {
    this.live = false;
    this.snapshot = undefined;
  }

  private read() {
    const { bucket, index } = this.target!;
    this.snapshot ??= this.inner.getBucketAndIndex(bucket, index);
    // A failed read is not kept: the next one asks again.
    this.snapshot.catch(() => (this.snapshot = undefined));
    return this.snapshot;
  }

  async getBucket(name: string): Promise<BucketRecord | undefined> {
    if (this.live && this.target?.bucket === name) return (await this.read()).bucket;
    return this.inner.getBucket(name);
  }

  async getIndex(bucketName: string, indexName: string): Promise<IndexRecord | undefined> {
    if (this.live && this.target?.bucket === bucketName && this.target.index === indexName) return (await this.read()).index;
    return this.inner.getIndex(bucketName, indexName);
  }

  listBuckets(request: ListRequest): Promise<ListResult<BucketRecord>> {
    return this.inner.listBuckets(request);
  }

  listIndexes(bucketName: string, request: ListRequest): Promise<ListResult<IndexRecord>> {
    return this.inner.listIndexes(bucketName, request);
  }

  createBucket(bucket: BucketRecord): Promise<void> {
    this.expire();
    return this.inner.createBucket(bucket);
  }

  deleteBucket(name: string): Promise<void> {
    this.expire();
    return this.inner.deleteBucket(name);
  }

  updateBucket(name: string, patch: BucketPatch): Promise<BucketRecord> {
    this.expire();
    return this.inner.updateBucket(name, patch);
  }

  createIndex(index: IndexRecord): Promise<void> {
    this.expire();
    return this.inner.createIndex(index);
  }

  deleteIndex(bucketName: string, indexName: string): Promise<void> {
    this.expire();
    return this.inner.deleteIndex(bucketName, indexName);
  }

  updateIndex(bucketName: string, indexName: string, patch: IndexPatch): Promise<IndexRecord> {
    this.expire();
    return this.inner.updateIndex(bucketName, indexName, patch);
  }

  putCursor(id: string, cursor: CursorRecord): Promise<void> {
    return this.inner.putCursor(id, cursor);
  }

  getCursor(id: string): Promise<CursorRecord | undefined> {
    return this.inner.getCursor(id);
  }
}

/** The store as the request sees it: any call ends the catalog snapshot first. */
function expiringStore(store: VectorStorePort, catalog: RequestCatalog): VectorStorePort {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        catalog.expire();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** The request's deps: its own snapshot catalog, the shared store and everything else. */
export function requestDeps<D extends Deps>(deps: D, source: SnapshotSource, input: Record<string, unknown>): D {
  const catalog = new RequestCatalog(source, requestTarget(deps, input));
  return { ...deps, catalog, store: expiringStore(deps.store, catalog) };
}

/**
 * The pipeline step that gives each request its snapshot, then runs `authorize` (if any) with it:
 * it runs after decode and validation (the input names the target) and before the use case.
 */
export function requestSnapshotStep(source: SnapshotSource, authorize?: Step): Step {
  return {
    ...authorize,
    before: async (request) => {
      const context = request.context;
      context.deps = requestDeps(context.deps, source, context.input ?? {});
      return authorize?.before?.(request);
    },
  };
}

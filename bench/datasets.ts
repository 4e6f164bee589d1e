// Benchmark data: Fashion-MNIST (Debian's dataset-fashion-mnist, gzipped IDX) and seeded clustered
// synthetic vectors. Vectors live in SharedArrayBuffers so ground-truth workers read them in place.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { gaussian, rng } from './stats';

export type Metric = 'euclidean' | 'cosine';

/** One metadata predicate as the brute force evaluates it: `column op value` on a per-row byte. */
export interface PredicateSpec {
  column: 'cat' | 'n';
  op: 'eq' | 'lt';
  value: number;
}

export interface FilterCase {
  /** '10%', '1%', '50%' */
  name: string;
  selectivity: number;
  /** The S3 Vectors filter document for query `qi`. */
  filter(qi: number): Record<string, unknown>;
  /** The same predicate for the exact search. */
  spec(qi: number): PredicateSpec;
}

export interface Dataset {
  id: string;
  name: string;
  description: string;
  metric: Metric;
  dimension: number;
  count: number;
  vectors: Float32Array;
  queryCount: number;
  queries: Float32Array;
  /** Per row: category (0-9) and number (0-99); metadata and brute force read the same bytes. */
  cat: Uint8Array;
  n: Uint8Array;
  catNames: string[];
  filters: FilterCase[];
  key(i: number): string;
  metadata(i: number): Record<string, string | number>;
  /** Changes whenever the rows, queries or filters change (names the ground-truth cache). */
  cacheKey: string;
}

export const FASHION_DIR = '/usr/share/datasets/fashion-mnist';
const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

function shared(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * 4));
}

function sharedBytes(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

export function ensureFashionMnist(log: (line: string) => void): void {
  if (existsSync(join(FASHION_DIR, 'train-images-idx3-ubyte.gz'))) return;
  log(`${FASHION_DIR} is missing: installing Debian's dataset-fashion-mnist (apt-get)`);
  const apt = (args: string[]) => execFileSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  try {
    apt(['install', '-y', 'dataset-fashion-mnist']);
  } catch {
    apt(['update']);
    apt(['install', '-y', 'dataset-fashion-mnist']);
  }
  if (!existsSync(join(FASHION_DIR, 'train-images-idx3-ubyte.gz'))) throw new Error(`dataset-fashion-mnist installed but ${FASHION_DIR} has no train images`);
}

function readIdx(file: string): { dims: number[]; data: Uint8Array } {
  const buf = gunzipSync(readFileSync(file));
  const magic = buf.readUInt32BE(0);
  if (magic >> 8 !== 0x08) throw new Error(`${file}: not an unsigned-byte IDX file (magic ${magic.toString(16)})`);
  const ndims = magic & 0xff;
  const dims = Array.from({ length: ndims }, (_, i) => buf.readUInt32BE(4 + 4 * i));
  const offset = 4 + 4 * ndims;
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + offset, buf.length - offset) };
}

/** Per-query filter values, seeded, independent of the rows. */
function standardFilters(queryCount: number, seed: number, catNames: string[]): FilterCase[] {
  const r = rng(seed);
  const catOf = Array.from({ length: queryCount }, () => Math.floor(r() * 10));
  const numOf = Array.from({ length: queryCount }, () => Math.floor(r() * 100));
  return [
    {
      name: '10%',
      selectivity: 0.1,
      filter: (qi) => ({ category: catNames[catOf[qi]] }),
      spec: (qi) => ({ column: 'cat', op: 'eq', value: catOf[qi] }),
    },
    {
      name: '1%',
      selectivity: 0.01,
      filter: (qi) => ({ n: { $eq: numOf[qi] } }),
      spec: (qi) => ({ column: 'n', op: 'eq', value: numOf[qi] }),
    },
    {
      name: '50%',
      selectivity: 0.5,
      filter: () => ({ n: { $lt: 50 } }),
      spec: () => ({ column: 'n', op: 'lt', value: 50 }),
    },
  ];
}

function withRowMetadata(
  base: Omit<Dataset, 'key' | 'metadata' | 'filters'>,
  filters: FilterCase[],
): Dataset {
  return {
    ...base,
    filters,
    key: (i) => String(i),
    metadata: (i) => ({ category: base.catNames[base.cat[i]], n: base.n[i] }),
  };
}

/**
 * Fashion-MNIST as ann-benchmarks uses it: raw pixel values 0-255 as float32, 784-d, euclidean.
 * Rows are the first `count` train images, queries the first `queryCount` test images. Metadata:
 * the image's category (10 values, 10% each) and a seeded number 0-99 (1%).
 */
export function fashionMnist(count: number, queryCount: number, log: (line: string) => void): Dataset {
  ensureFashionMnist(log);
  const images = readIdx(join(FASHION_DIR, 'train-images-idx3-ubyte.gz'));
  const labels = readIdx(join(FASHION_DIR, 'train-labels-idx1-ubyte.gz'));
  const testImages = readIdx(join(FASHION_DIR, 't10k-images-idx3-ubyte.gz'));
  const dimension = images.dims[1] * images.dims[2];
  count = Math.min(count, images.dims[0]);
  queryCount = Math.min(queryCount, testImages.dims[0]);
  const vectors = shared(count * dimension);
  for (let i = 0; i < count * dimension; i++) vectors[i] = images.data[i];
  const queries = shared(queryCount * dimension);
  for (let i = 0; i < queryCount * dimension; i++) queries[i] = testImages.data[i];
  const cat = sharedBytes(count);
  cat.set(labels.data.subarray(0, count));
  const n = sharedBytes(count);
  const r = rng(7);
  for (let i = 0; i < count; i++) n[i] = Math.floor(r() * 100);
  // Fashion-MNIST's categories are exactly balanced (10%); only 10% and 1% apply (issue 7).
  const filters = standardFilters(queryCount, 11, FASHION_CLASSES).filter((f) => f.name !== '50%');
  return withRowMetadata(
    {
      id: 'fashion-mnist',
      name: 'Fashion-MNIST',
      description: `${count} × ${dimension}-d euclidean (train images), ${queryCount} test-image queries`,
      metric: 'euclidean',
      dimension,
      count,
      vectors,
      queryCount,
      queries,
      cat,
      n,
      catNames: FASHION_CLASSES,
      cacheKey: `fmnist-${count}-${queryCount}-v1`,
    },
    filters,
  );
}

/**
 * Clustered synthetic vectors: `clusters` centres ~ N(0, I); each row is its centre plus a point of
 * a 16-d subspace of that cluster plus small isotropic noise, so neighbours are meaningful (as in
 * real embeddings) rather than all equidistant. Queries come from the same distribution.
 * Metadata is independent of the vectors: category 0-9 (10%), number 0-99 (1%; < 50 is 50%).
 */
export function synthetic(count: number, dimension: number, queryCount: number, metric: Metric, seed = 42): Dataset {
  const clusters = Math.max(10, Math.round(count / 1000));
  const sub = 16;
  const r = rng(seed);
  const g = gaussian(r);
  const centres = new Float32Array(clusters * dimension);
  for (let i = 0; i < centres.length; i++) centres[i] = g();
  const bases = new Float32Array(clusters * sub * dimension);
  const basisScale = 0.6 / Math.sqrt(sub);
  for (let i = 0; i < bases.length; i++) bases[i] = g() * basisScale;
  const z = new Float64Array(sub);
  const fill = (out: Float32Array, rows: number) => {
    for (let row = 0; row < rows; row++) {
      const c = Math.floor(r() * clusters);
      for (let s = 0; s < sub; s++) z[s] = g();
      const o = row * dimension;
      const centre = c * dimension;
      for (let d = 0; d < dimension; d++) out[o + d] = centres[centre + d] + 0.15 * g();
      for (let s = 0; s < sub; s++) {
        const b = (c * sub + s) * dimension;
        const zs = z[s];
        for (let d = 0; d < dimension; d++) out[o + d] += zs * bases[b + d];
      }
    }
  };
  const vectors = shared(count * dimension);
  fill(vectors, count);
  const queries = shared(queryCount * dimension);
  fill(queries, queryCount);
  const cat = sharedBytes(count);
  const n = sharedBytes(count);
  const m = rng(seed + 1);
  for (let i = 0; i < count; i++) {
    cat[i] = Math.floor(m() * 10);
    n[i] = Math.floor(m() * 100);
  }
  const catNames = Array.from({ length: 10 }, (_, i) => `c${i}`);
  const label = count >= 1_000_000 ? `${count / 1_000_000}M` : `${Math.round(count / 1000)}k`;
  return withRowMetadata(
    {
      id: `synthetic-${label.toLowerCase()}`,
      name: `Synthetic ${label}`,
      description: `${count} × ${dimension}-d ${metric}, ${clusters} clusters (seed ${seed}), ${queryCount} queries`,
      metric,
      dimension,
      count,
      vectors,
      queryCount,
      queries,
      cat,
      n,
      catNames,
      cacheKey: `synthetic-${count}-${dimension}-${metric}-${seed}-${queryCount}-v1`,
    },
    standardFilters(queryCount, seed + 2, catNames),
  );
}

/** Uniform random vectors for the issue-2 figures (size of a request, not recall, matters there). */
export function uniformVectors(count: number, dimension: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(count * dimension);
  for (let i = 0; i < out.length; i++) out[i] = r() * 2 - 1;
  return out;
}

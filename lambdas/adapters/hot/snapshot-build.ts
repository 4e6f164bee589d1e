// Builds a hot index snapshot off the main thread: a worker_thread reads the table at one version
// (key + vector columns), builds a usearch HNSW over it, and saves the index, the keys and a marker
// file (written last: a snapshot without it is incomplete) under <data>/vectors/_hot/, mode 0600.
// The worker is plain JavaScript evaluated from a string, so it runs the same under tsx, jest and
// the esbuild bundle (no worker file to ship); it loads the two native modules by resolved path.
import { Worker } from 'node:worker_threads';

export interface BuildRequest {
  uri: string;
  storageOptions?: Record<string, string>;
  storageId: string;
  version: number;
  dimension: number;
  metric: 'l2sq' | 'cos';
  m: number;
  efConstruction: number;
  ef: number;
  threads: number;
  /** Path prefix of the snapshot's files (.usearch, .keys, .json). */
  base: string;
  /** Refuse (and say so) above this many rows: the table outgrew the memory budget. */
  maxRows: number;
  /** Refuse when more than this share of the rows repeat another row's vector (HNSW recall). */
  maxDuplicateShare: number;
  /** How the HNSW index stores vectors ('f16' halves its memory; exact f32 stay in the .vectors file). */
  quantization: 'f32' | 'f16';
}

export type BuildResult =
  | { ok: true; rows: number; keyBytes: number; readMs: number; buildMs: number; quantization: 'f32' | 'f16' }
  | { ok: false; reason: 'duplicates' | 'duplicate-vectors' | 'too-large' | 'error'; message: string };

const WORKER_SOURCE = String.raw`
const { parentPort, workerData: w } = require('node:worker_threads');
const fs = require('node:fs');
(async () => {
  const lancedb = require(w.lancedbPath);
  const { Index } = require(w.usearchPath);
  const t0 = Date.now();
  const db = await lancedb.connect(w.uri, { storageOptions: w.storageOptions });
  const table = await db.openTable(w.storageId);
  try {
    await table.checkout(w.version);
    const n = await table.countRows();
    if (n > w.maxRows) return parentPort.postMessage({ ok: false, reason: 'too-large', message: n + ' rows' });
    const dim = w.dimension;
    const vectors = new Float32Array(n * dim);
    const encoder = new TextEncoder();
    const seen = new Set();
    const encoded = [];
    // Filterable metadata: per token the labels holding it (hot-filter.ts evaluates filters on them).
    const postings = new Map();
    let row = 0, keyBytes = 0;
    for await (const batch of await table.query().select(['key', 'vector', 'meta_tokens']).execute()) {
      const keys = batch.getChild('key');
      const tokens = batch.getChild('meta_tokens');
      const first = row;
      const column = batch.getChild('vector');
      for (const d of column.data) {
        const c = d.children[0];
        const start = (d.offset * dim) + c.offset;
        if (row + d.length > n) throw new Error('the table grew while read at a fixed version');
        vectors.set(c.values.subarray(start, start + d.length * dim), row * dim + 0);
        row += d.length;
      }
      for (let i = 0; i < batch.numRows; i++) {
        const key = keys.get(i);
        if (seen.has(key)) return parentPort.postMessage({ ok: false, reason: 'duplicates', message: 'key stored twice: ' + key });
        seen.add(key);
        const bytes = encoder.encode(key);
        encoded.push(bytes);
        keyBytes += bytes.length;
        const list = tokens.get(i);
        if (list) for (const token of list) {
          let labels = postings.get(token);
          if (!labels) postings.set(token, (labels = []));
          labels.push(first + i);
        }
      }
    }
    if (row !== n || encoded.length !== n) throw new Error('read ' + row + ' rows of ' + n);
    // One vector stored under many keys splits HNSW's graph into islands of equal points and
    // costs recall (review-hot: 6 copies of each vector, the nearest first in 179 of 200 queries).
    // Past maxDuplicateShare of the rows, decline: LanceDB answers this table.
    const bits = new Uint32Array(vectors.buffer, vectors.byteOffset, n * dim);
    const byHash = new Map();
    let duplicates = 0;
    for (let r = 0; r < n; r++) {
      let h = 2166136261;
      for (let j = r * dim, e = j + dim; j < e; j++) h = Math.imul(h ^ bits[j], 16777619);
      const same = byHash.get(h);
      if (same === undefined) { byHash.set(h, [r]); continue; }
      const equal = same.some((o) => { for (let j = 0; j < dim; j++) if (bits[o * dim + j] !== bits[r * dim + j]) return false; return true; });
      if (equal) duplicates++;
      else same.push(r);
    }
    if (duplicates > n * w.maxDuplicateShare) return parentPort.postMessage({ ok: false, reason: 'duplicate-vectors', message: duplicates + ' of ' + n + ' rows repeat another row\'s vector' });
    const readMs = Date.now() - t0;
    // f16 keeps ~3 significant digits relative to a vector's largest number, but only while that
    // number is a normal f16: tinier (or huger) vectors would collapse to 0 (or overflow). Then f32.
    let quantization = w.quantization;
    if (quantization === 'f16') {
      for (let r = 0; r < n && quantization === 'f16'; r++) {
        let top = 0;
        for (let j = r * dim, e = j + dim; j < e; j++) top = Math.max(top, Math.abs(vectors[j]));
        if (top > 65504 || (top > 0 && top < 6.103515625e-5)) quantization = 'f32';
      }
    }
    const index = new Index({ dimensions: dim, metric: w.metric, quantization, connectivity: w.m, expansion_add: w.efConstruction, expansion_search: w.ef, multi: false });
    const labels = new BigUint64Array(n);
    for (let i = 0; i < n; i++) labels[i] = BigInt(i);
    // In chunks, yielding between them: a worker stuck in one long native call cannot be terminated
    // (a closing server would wait for the whole build).
    for (let s = 0; s < n; s += 2000) {
      const e = Math.min(n, s + 2000);
      index.add(labels.subarray(s, e), vectors.subarray(s * dim, e * dim), w.threads);
      await new Promise((r) => setImmediate(r));
    }
    const buildMs = Date.now() - t0 - readMs;
    // Keys file: n (u32), n + 1 offsets (u32), then the UTF-8 bytes of every key in label order.
    const keysFile = Buffer.alloc(4 * (n + 2) + keyBytes);
    const offsets = new Uint32Array(keysFile.buffer, keysFile.byteOffset, n + 2);
    offsets[0] = n;
    let at = 0;
    encoded.forEach((bytes, i) => { offsets[i + 1] = at; keysFile.set(bytes, 4 * (n + 2) + at); at += bytes.length; });
    offsets[n + 1] = at;
    const write = (suffix, write) => { const tmp = w.base + suffix + '.' + process.pid + '.' + Math.random().toString(36).slice(2) + '.tmp'; write(tmp); fs.chmodSync(tmp, 0o600); fs.renameSync(tmp, w.base + suffix); };
    write('.usearch', (p) => index.save(p));
    write('.keys', (p) => fs.writeFileSync(p, keysFile, { mode: 0o600 }));
    // The exact f32 vectors in label order: read (not mapped) for exact search over a filter's
    // few matches and to re-rank a quantized index's candidates; page cache, not the server's RSS.
    write('.vectors', (p) => fs.writeFileSync(p, new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength), { mode: 0o600 }));
    write('.filter', (p) => fs.writeFileSync(p, JSON.stringify({ tokens: [...postings] }), { mode: 0o600 }));
    write('.json', (p) => fs.writeFileSync(p, JSON.stringify({ version: w.version, rows: n, dimension: dim, metric: w.metric, m: w.m, ef: w.ef, quantization, requested: w.quantization, format: 2 }), { mode: 0o600 }));
    parentPort.postMessage({ ok: true, rows: n, keyBytes, readMs, buildMs, quantization });
  } finally {
    table.close();
    db.close();
  }
})().catch((error) => parentPort.postMessage({ ok: false, reason: 'error', message: String(error && error.stack || error) }));
`;

export interface RunningBuild {
  result: Promise<BuildResult>;
  /** Stops the worker (the server is closing); the result is then an error. */
  cancel(): void;
}

/** Runs one build in a worker_thread; its result never rejects. */
export function buildSnapshot(request: BuildRequest): RunningBuild {
  let worker: Worker | undefined;
  const result = new Promise<BuildResult>((resolve) => {
    let settled = false;
    const done = (result: BuildResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    try {
      worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { ...request, lancedbPath: require.resolve('@lancedb/lancedb'), usearchPath: require.resolve('usearch') },
      });
    } catch (error) {
      return done({ ok: false, reason: 'error', message: String(error) });
    }
    worker.once('message', (outcome: BuildResult) => {
      done(outcome);
      void worker?.terminate();
    });
    worker.once('error', (error) => done({ ok: false, reason: 'error', message: String(error) }));
    worker.once('exit', (code) => done({ ok: false, reason: 'error', message: `build worker exited (${code})` }));
  });
  return { result, cancel: () => void worker?.terminate() };
}

// The body worker's program. It is plain JavaScript run with `eval: true`, so it works the same
// under tsx, ts-jest and the esbuild bundle (none of which could load a TypeScript worker file).
//
// Each body is one job in two steps, so a body is parsed only once its request is authenticated.
// Every message but drop carries a fresh `id` its answer repeats:
//   { id, job, bytes }       the body (transferred): kept; answers { id, hash } (hex SHA-256)
//   { id, job, parse: true } answers { id, blank: true } (empty or white space: no input),
//                            { id, invalid: true } (not JSON: decodeInput's usual error),
//                            { id, value } or { id, flat } (the parsed body, see below) or { id, fallback: true }
//                            (the value could not be sent, e.g. nested too deeply: parse inline)
//   { job, drop: true }      forgets the body (the request ended without parsing it)
//
// The hash is the one the event loop would compute: of the body's bytes when they are valid UTF-8,
// else of the text they decode to (what hashing the event's body string gives).
//
// When every such list is all finite float32 numbers (the usual case), the answer is `flat`: { json,
// floats, places }, the body without its lists as JSON text (a JSON value round-trips exactly
// through stringify and parse, but for -0, which no stored field keeps: metadata is stored as JSON
// text), the lists' values in one Float32Array, and (vector index, length) pairs saying where each
// list goes. Otherwise, in the parsed body, `vectors[i].data.float32` lists of plain numbers become a Float32Array
// (every value a finite float32) or a Float64Array (some past float32's range, kept exact for the
// error that names them), transferred, so the event loop never rebuilds millions of array
// elements. A list holding anything but numbers stays a plain array, so validation sees today's
// values and words today's error; and as validation walks vectors in order and stops at the first
// violation (items before the list's own length), it never reads past that vector: the list is
// cut after it, which keeps 500 bad vectors from costing the event loop a full copy.
export const BODY_WORKER_SOURCE = String.raw`
'use strict';
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { isUtf8 } = require('node:buffer');

// The bytes, not their text: a body waiting for its request's authentication (or refused by it)
// costs no decoded copy.
const bodies = new Map();

function pack(values) {
  let fits = true;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number') return undefined;
    if (fits && !Number.isFinite(Math.fround(v))) fits = false;
  }
  return fits ? new Float32Array(values) : new Float64Array(values);
}

function packVectors(body, transfer) {
  const vectors = body.vectors;
  if (!Array.isArray(vectors)) return;
  for (let i = 0; i < vectors.length; i++) {
    const vector = vectors[i];
    const data = typeof vector === 'object' && vector !== null ? vector.data : undefined;
    const values = typeof data === 'object' && data !== null ? data.float32 : undefined;
    if (!Array.isArray(values)) continue;
    const packed = pack(values);
    if (packed === undefined) {
      vectors.length = i + 1;
      return;
    }
    data.float32 = packed;
    transfer.push(packed.buffer);
  }
}

// The common case, every vector list all finite float32: the values in one Float32Array and the
// rest of the body (keys, metadata) as JSON text, with the places of the lists. Far cheaper on
// both threads than a structured clone of 500 objects and 500 typed arrays.
function packFlat(body) {
  const vectors = body.vectors;
  if (!Array.isArray(vectors)) return undefined;
  let total = 0;
  for (let i = 0; i < vectors.length; i++) {
    const vector = vectors[i];
    const data = typeof vector === 'object' && vector !== null ? vector.data : undefined;
    const values = typeof data === 'object' && data !== null ? data.float32 : undefined;
    if (!Array.isArray(values)) continue;
    for (let j = 0; j < values.length; j++) {
      const v = values[j];
      if (typeof v !== 'number' || !Number.isFinite(Math.fround(v))) return undefined;
    }
    total += values.length;
  }
  const floats = new Float32Array(total);
  const places = [];
  let at = 0;
  for (let i = 0; i < vectors.length; i++) {
    const vector = vectors[i];
    const data = typeof vector === 'object' && vector !== null ? vector.data : undefined;
    const values = typeof data === 'object' && data !== null ? data.float32 : undefined;
    if (!Array.isArray(values)) continue;
    floats.set(values, at);
    places.push(i, values.length);
    at += values.length;
    data.float32 = 0;
  }
  return { json: JSON.stringify(body), floats, places: Int32Array.from(places) };
}

function parse(id, job) {
  const bytes = bodies.get(job);
  bodies.delete(job);
  if (bytes === undefined) return parentPort.postMessage({ id, fallback: true });
  const text = bytes.toString('utf8');
  if (text.trim() === '') return parentPort.postMessage({ id, blank: true });
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return parentPort.postMessage({ id, invalid: true });
  }
  // decodeInput refuses every non-object alike: no need to send it.
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return parentPort.postMessage({ id, value: null });
  try {
    const flat = packFlat(body);
    if (flat !== undefined) return parentPort.postMessage({ id, flat }, [flat.floats.buffer, flat.places.buffer]);
    const transfer = [];
    packVectors(body, transfer);
    parentPort.postMessage({ id, value: body }, transfer);
  } catch {
    parentPort.postMessage({ id, fallback: true });
  }
}

parentPort.on('message', (message) => {
  const { id, job } = message;
  if (message.parse) return parse(id, job);
  if (message.drop) return void bodies.delete(job);
  const bytes = Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength);
  bodies.set(job, bytes);
  const hash = createHash('sha256').update(isUtf8(bytes) ? bytes : Buffer.from(bytes.toString('utf8'), 'utf8')).digest('hex');
  parentPort.postMessage({ id, hash });
});
`;

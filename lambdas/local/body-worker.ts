// The body worker's program. It is plain JavaScript run with `eval: true`, so it works the same
// under tsx, ts-jest and the esbuild bundle (none of which could load a TypeScript worker file).
//
// Each body is one job in two steps, so a body is parsed only once its request is authenticated.
// Every message but drop carries a fresh `id` its answer repeats:
//   { id, job, bytes }       the body (transferred): kept; answers { id, hash } (hex SHA-256)
//   { id, job, parse: true, shape? } (shape: the operation's input shape, see cutLists) answers { id, blank: true } (empty or white space: no input),
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

const PACK_AT_MOST = 10000;

function packVectors(body, transfer) {
  const vectors = body.vectors;
  // Hundreds of thousands of tiny vectors: one transfer each costs far more than the plain clone.
  if (!Array.isArray(vectors) || vectors.length > PACK_AT_MOST) return;
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

// Cutting a list after its first certainly bad item: validation (shape-validator.ts) walks members
// in model order and list items before the list's own length, and stops at its first violation, so
// it never reads past that item and words the same error for the cut list. A body of millions of
// small bad items ({"vectors": [{}, {}, …]}) then costs the event loop one item, not a structured
// clone of millions of objects. Each check below is one validation makes in the same way, so
// "bad" here is always bad there; checks whose limit configuration may change (list and integer
// maximums), vector numbers (packed below) and documents (metadata, filter) are left to it.
const shapes = (require('node:worker_threads').workerData || {}).shapes || {};
const patterns = new Map();

function plain(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function matches(pattern, value) {
  let re = patterns.get(pattern);
  if (!re) patterns.set(pattern, (re = new RegExp('^(?:' + pattern + ')$', 'u')));
  return re.test(value);
}

function emptyUnion(shape, value) {
  return !!(shape && shape.union) && plain(value) && Object.values(value).every((v) => v === undefined || v === null);
}

function bad(ref, value) {
  const shape = shapes[ref.shape];
  if (!shape || shape.document) return false;
  switch (shape.type) {
    case 'structure': {
      if (!plain(value)) return true;
      const required = shape.required || [];
      let present = 0;
      for (const [name, member] of Object.entries(shape.members || {})) {
        const v = value[name];
        if (v === undefined || v === null || emptyUnion(shapes[member.shape], v)) {
          if (required.includes(name)) return true;
        } else {
          present++;
          if (bad(member, v)) return true;
        }
      }
      return !!shape.union && present !== 1;
    }
    case 'list': {
      if (!Array.isArray(value)) return true;
      const item = shapes[shape.member.shape];
      if (item && item.type !== 'float' && item.type !== 'double') for (const v of value) if (bad(shape.member, v)) return true;
      return shape.min !== undefined && value.length < shape.min;
    }
    case 'map': {
      if (!plain(value)) return true;
      const entries = Object.entries(value);
      for (const [k, v] of entries) if (bad(shape.key, k) || bad(shape.value, v)) return true;
      return shape.min !== undefined && entries.length < shape.min;
    }
    case 'string': {
      if (typeof value !== 'string') return true;
      if (shape.min !== undefined || shape.max !== undefined) {
        const length = [...value].length;
        if ((shape.min !== undefined && length < shape.min) || (shape.max !== undefined && length > shape.max)) return true;
      }
      if (shape.pattern !== undefined && !matches(shape.pattern, value)) return true;
      return shape.enum !== undefined && !shape.enum.includes(value);
    }
    case 'integer':
    case 'long':
      return typeof value !== 'number' || !Number.isInteger(value) || (shape.min !== undefined && value < shape.min);
    case 'float':
    case 'double':
      return typeof value !== 'number';
    case 'boolean':
      return typeof value !== 'boolean';
    default:
      return false;
  }
}

const CUT_FROM = 1000;

// Cuts every list on the path validation walks after its first bad item (and inside that item).
function cutLists(ref, value) {
  const shape = shapes[ref.shape];
  if (!shape || shape.document) return;
  if (shape.type === 'structure' && plain(value)) {
    for (const [name, member] of Object.entries(shape.members || {})) {
      if (value[name] !== undefined && value[name] !== null) cutLists(member, value[name]);
    }
  } else if (shape.type === 'list' && Array.isArray(value)) {
    const item = shapes[shape.member.shape];
    // Only long lists: a short one costs the event loop little, and ordinary bodies no extra walk.
    if (!item || item.type === 'float' || item.type === 'double' || value.length <= CUT_FROM) return;
    for (let i = 0; i < value.length; i++) {
      if (!bad(shape.member, value[i])) continue;
      value.length = i + 1;
      return cutLists(shape.member, value[i]);
    }
  }
}

function parse(id, job, shape) {
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
    // Cut first: the flat path sends the rest of the body as JSON text, which the event loop parses.
    if (shape) {
      try {
        cutLists({ shape }, body);
      } catch {
        // a check that threw (e.g. too deep): the body goes as it is, validation decides
      }
    }
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
  if (message.parse) return parse(id, job, message.shape);
  if (message.drop) return void bodies.delete(job);
  const bytes = Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength);
  bodies.set(job, bytes);
  const hash = createHash('sha256').update(isUtf8(bytes) ? bytes : Buffer.from(bytes.toString('utf8'), 'utf8')).digest('hex');
  parentPort.postMessage({ id, hash });
});
`;

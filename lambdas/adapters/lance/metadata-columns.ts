// How filterable metadata is laid out in a LanceDB index table so filters run as a PREfilter.
//
// The schema is fixed at CreateIndex (two writers may append to one table, so no per-key columns):
// - meta_tokens  List<Utf8>: one token per filterable key (`["key"]`, for $exists) and one per
//   value or list element (`["key",value]`, typed by JSON: "5", 5 and true differ). Equality, $in,
//   $ne, $nin and $exists are array_has / array_has_any on it, which a LABEL_LIST index serves.
//   $startsWith is a substring search over the joined tokens (tokens hold no raw control chars).
// - meta_num_min / meta_num_max  JSON ({"k<hex key>": number}): per filterable key holding numbers,
//   the smallest and largest of them (one number, or a list's numeric elements). A range is
//   "some element satisfies it": $gt/$gte read the max, $lt/$lte the min. Only numbers are there,
//   so Lance's json_get_float never sees a string it would coerce ("5" stays out of ranges).
import * as arrow from 'apache-arrow';
import type { Scalar } from '../../core/filter/ast';
import type { Metadata } from '../../core/ports';
import { utf8Data, utf8ListData } from './utf8-columns';

export const TOKENS_COLUMN = 'meta_tokens';
export const NUM_MIN_COLUMN = 'meta_num_min';
export const NUM_MAX_COLUMN = 'meta_num_max';
/** Field char that joins tokens for $startsWith; JSON.stringify escapes it inside a token. */
export const TOKEN_SEPARATOR = '\u0001';

// Lance stores an `arrow.json` Utf8 column as its own lance.json (JSONB) type, which its
// json_get_* functions need; the same annotated Utf8 type is what every write must send.
const JSON_EXTENSION = new Map([['ARROW:extension:name', 'arrow.json']]);

export function existsToken(key: string): string {
  return JSON.stringify([key]);
}

export function valueToken(key: string, value: Scalar): string {
  return JSON.stringify([key, value]);
}

/** The start of the token of every string value of `key` that begins with `prefix`. */
export function stringPrefixToken(key: string, prefix: string): string {
  const full = JSON.stringify([key, prefix]);
  return full.slice(0, -2); // drop the closing `"]`
}

/** JSON member name for a key: hex of its UTF-8 bytes, so no key is read as a JSON path. */
export function numberMember(key: string): string {
  return 'k' + Buffer.from(key, 'utf8').toString('hex');
}

export function metadataFields(): arrow.Field[] {
  return [
    new arrow.Field(TOKENS_COLUMN, new arrow.List(new arrow.Field('item', new arrow.Utf8(), true)), true),
    new arrow.Field(NUM_MIN_COLUMN, new arrow.Utf8(), true, JSON_EXTENSION),
    new arrow.Field(NUM_MAX_COLUMN, new arrow.Utf8(), true, JSON_EXTENSION),
  ];
}

export function metadataColumns(
  docs: (Metadata | undefined)[],
  nonFilterableKeys: ReadonlySet<string>,
): Record<string, arrow.Vector> {
  const tokens: string[][] = [];
  const mins: string[] = [];
  const maxs: string[] = [];
  for (const doc of docs) {
    const row = encodeRow(doc, nonFilterableKeys);
    tokens.push(row.tokens);
    mins.push(JSON.stringify(row.min));
    maxs.push(JSON.stringify(row.max));
  }
  const [tokenField, minField, maxField] = metadataFields();
  return {
    [TOKENS_COLUMN]: arrow.makeVector(utf8ListData(tokens, tokenField.type as arrow.List<arrow.Utf8>)),
    [NUM_MIN_COLUMN]: arrow.makeVector(utf8Data(mins, minField.type as arrow.Utf8)),
    [NUM_MAX_COLUMN]: arrow.makeVector(utf8Data(maxs, maxField.type as arrow.Utf8)),
  };
}

interface EncodedRow {
  tokens: string[];
  min: Record<string, number>;
  max: Record<string, number>;
}

function encodeRow(doc: Metadata | undefined, nonFilterableKeys: ReadonlySet<string>): EncodedRow {
  const row: EncodedRow = { tokens: [], min: {}, max: {} };
  if (!doc) return row;
  for (const [key, raw] of Object.entries(doc)) {
    if (nonFilterableKeys.has(key)) continue;
    row.tokens.push(existsToken(key));
    const values = Array.isArray(raw) ? raw : [raw];
    const seen = new Set<string>();
    let lo = Infinity;
    let hi = -Infinity;
    for (const value of values) {
      if (!isScalar(value)) continue; // checkMetadata rejects these; never index what cannot match
      const token = valueToken(key, value);
      if (!seen.has(token)) {
        seen.add(token);
        row.tokens.push(token);
      }
      if (typeof value === 'number') {
        lo = Math.min(lo, value);
        hi = Math.max(hi, value);
      }
    }
    if (lo <= hi) {
      const member = numberMember(key);
      row.min[member] = lo;
      row.max[member] = hi;
    }
  }
  return row;
}

function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

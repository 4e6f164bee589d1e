// Metadata filters evaluated in memory, with exactly the semantics of the LanceDB path
// (lance/filter-sql.ts over the columns of lance/metadata-columns.ts): both read the same tokens.
// - `eq`/`in` have a token, `ne`/`nin` have none (so a missing key or another type matches them),
//   `exists` is the key's own token, `startsWith` a string token beginning with the prefix token;
// - ranges compare the largest (gt/gte) or smallest (lt/lte) number of the key, derived from the
//   number tokens as metadata-columns derives meta_num_min/max; no number, no match.
// Snapshot rows: posting lists per token (label order) → bitsets. Delta rows: one row at a time.
import type * as arrow from 'apache-arrow';
import type { FilterNode } from '../../core/filter/ast';
import type { Metadata } from '../../core/ports';
import { TOKENS_COLUMN, existsToken, metadataColumns, stringPrefixToken, valueToken } from '../lance/metadata-columns';

/** A row's filterable facts: its tokens, and per key its smallest and largest number. */
export interface RowFacts {
  tokens: ReadonlySet<string>;
  numbers: ReadonlyMap<string, { min: number; max: number }>;
}

/** The tokens a write stores for `metadata` (the very encoder of PutVectors). */
export function metadataTokens(metadata: Metadata | undefined, nonFilterable: ReadonlySet<string>): string[] {
  const list = metadataColumns([metadata], nonFilterable)[TOKENS_COLUMN].get(0) as arrow.Vector<arrow.Utf8> | null;
  return list ? [...list].filter((t): t is string => t !== null) : [];
}

/** The number a token holds, as [key, value], or undefined for exists/string/boolean tokens. */
function numberOf(token: string): [string, number] | undefined {
  if (!/,-?\d[^"]*\]$/.test(token)) return undefined;
  const parsed = JSON.parse(token) as unknown[];
  return parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'number' ? [parsed[0], parsed[1]] : undefined;
}

export function rowFacts(tokens: readonly string[]): RowFacts {
  const numbers = new Map<string, { min: number; max: number }>();
  for (const token of tokens) {
    const n = numberOf(token);
    if (!n) continue;
    const seen = numbers.get(n[0]);
    if (seen) {
      seen.min = Math.min(seen.min, n[1]);
      seen.max = Math.max(seen.max, n[1]);
    } else numbers.set(n[0], { min: n[1], max: n[1] });
  }
  return { tokens: new Set(tokens), numbers };
}

function compare(op: 'gt' | 'gte' | 'lt' | 'lte', x: number, v: number): boolean {
  return op === 'gt' ? x > v : op === 'gte' ? x >= v : op === 'lt' ? x < v : x <= v;
}

/** Does one row (a delta row) match? */
export function rowMatches(node: FilterNode, row: RowFacts): boolean {
  switch (node.op) {
    case 'and':
      return node.children.every((c) => rowMatches(c, row));
    case 'or':
      return node.children.some((c) => rowMatches(c, row));
    case 'eq':
      return row.tokens.has(valueToken(node.key, node.value));
    case 'ne':
      return !row.tokens.has(valueToken(node.key, node.value));
    case 'in':
      return node.values.some((v) => row.tokens.has(valueToken(node.key, v)));
    case 'nin':
      return !node.values.some((v) => row.tokens.has(valueToken(node.key, v)));
    case 'exists':
      return row.tokens.has(existsToken(node.key)) === node.exists;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const n = row.numbers.get(node.key);
      return n !== undefined && compare(node.op, node.op === 'gt' || node.op === 'gte' ? n.max : n.min, node.value);
    }
    case 'startsWith': {
      const prefix = stringPrefixToken(node.key, node.prefix);
      for (const t of row.tokens) if (t.startsWith(prefix)) return true;
      return false;
    }
    default: {
      const unknown: never = node;
      throw new Error(`Unhandled filter node ${JSON.stringify(unknown)}`);
    }
  }
}

/** The snapshot's tokens: per token the labels holding it; per number key its min/max by label. */
export class FilterIndex {
  private readonly postings = new Map<string, Uint32Array>();
  /** Distinct tokens, sorted (for $startsWith: one contiguous run per prefix). */
  private readonly sorted: string[];
  private readonly numbers = new Map<string, { min: Float64Array; max: Float64Array }>();
  private readonly words: number;
  readonly bytes: number;

  constructor(
    readonly rows: number,
    entries: [string, number[]][],
  ) {
    this.words = (rows + 31) >>> 5;
    let bytes = 0;
    for (const [token, labels] of entries) {
      const list = Uint32Array.from(labels);
      this.postings.set(token, list);
      bytes += list.byteLength + 2 * token.length + 64;
      const n = numberOf(token);
      if (!n) continue;
      let column = this.numbers.get(n[0]);
      if (!column) {
        column = { min: new Float64Array(rows).fill(NaN), max: new Float64Array(rows).fill(NaN) };
        this.numbers.set(n[0], column);
        bytes += 16 * rows;
      }
      for (const label of list) {
        const lo = column.min[label];
        if (!(lo <= n[1])) column.min[label] = n[1];
        const hi = column.max[label];
        if (!(hi >= n[1])) column.max[label] = n[1];
      }
    }
    this.sorted = [...this.postings.keys()].sort();
    this.bytes = bytes;
  }

  /** The labels matching `node`, as a bitset (bit i of word i >> 5). */
  evaluate(node: FilterNode): Uint32Array {
    switch (node.op) {
      case 'and': {
        const out = this.evaluate(node.children[0]);
        for (const c of node.children.slice(1)) {
          const other = this.evaluate(c);
          for (let w = 0; w < this.words; w++) out[w] &= other[w];
        }
        return out;
      }
      case 'or': {
        const out = this.empty();
        for (const c of node.children) {
          const other = this.evaluate(c);
          for (let w = 0; w < this.words; w++) out[w] |= other[w];
        }
        return out;
      }
      case 'eq':
        return this.withTokens([valueToken(node.key, node.value)]);
      case 'ne':
        return this.not(this.withTokens([valueToken(node.key, node.value)]));
      case 'in':
        return this.withTokens(node.values.map((v) => valueToken(node.key, v)));
      case 'nin':
        return this.not(this.withTokens(node.values.map((v) => valueToken(node.key, v))));
      case 'exists': {
        const has = this.withTokens([existsToken(node.key)]);
        return node.exists ? has : this.not(has);
      }
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte': {
        const out = this.empty();
        const column = this.numbers.get(node.key);
        if (!column) return out;
        const values = node.op === 'gt' || node.op === 'gte' ? column.max : column.min;
        const v = node.value;
        const op = node.op;
        // NaN (no number) compares false, as SQL's NULL does.
        for (let i = 0; i < this.rows; i++) if (compare(op, values[i], v)) out[i >>> 5] |= 1 << (i & 31);
        return out;
      }
      case 'startsWith': {
        const prefix = stringPrefixToken(node.key, node.prefix);
        let lo = 0;
        let hi = this.sorted.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (this.sorted[mid] < prefix) lo = mid + 1;
          else hi = mid;
        }
        const tokens: string[] = [];
        for (let i = lo; i < this.sorted.length && this.sorted[i].startsWith(prefix); i++) tokens.push(this.sorted[i]);
        return this.withTokens(tokens);
      }
      default: {
        const unknown: never = node;
        throw new Error(`Unhandled filter node ${JSON.stringify(unknown)}`);
      }
    }
  }

  private empty(): Uint32Array {
    return new Uint32Array(this.words);
  }

  private withTokens(tokens: string[]): Uint32Array {
    const out = this.empty();
    for (const token of new Set(tokens)) {
      const list = this.postings.get(token);
      if (list) for (const label of list) out[label >>> 5] |= 1 << (label & 31);
    }
    return out;
  }

  private not(bits: Uint32Array): Uint32Array {
    for (let w = 0; w < this.words; w++) bits[w] = ~bits[w];
    const tail = this.rows & 31;
    if (tail) bits[this.words - 1] &= (1 << tail) - 1;
    return bits;
  }
}

export function has(bits: Uint32Array, label: number): boolean {
  return (bits[label >>> 5] & (1 << (label & 31))) !== 0;
}

export function popcount(bits: Uint32Array): number {
  let n = 0;
  for (let w = 0; w < bits.length; w++) {
    let x = bits[w];
    x -= (x >>> 1) & 0x55555555;
    x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
    n += (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
  }
  return n;
}

export function labelsOf(bits: Uint32Array): number[] {
  const out: number[] = [];
  for (let w = 0; w < bits.length; w++) {
    let x = bits[w];
    while (x !== 0) {
      const low = x & -x;
      out.push((w << 5) + 31 - Math.clz32(low));
      x ^= low;
    }
  }
  return out;
}

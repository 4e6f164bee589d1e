// Parses a QueryVectors `filter` document (the S3 Vectors filter language) into a FilterNode.
// Pure: every malformed filter becomes a ValidationError at path `filter`, never a crash.
import type { FilterNode, Scalar } from './ast';
import type { IndexMode } from '../ports';
import type { Limits } from '../config';
import { ValidationError } from '../errors';

export interface FilterContext {
  nonFilterableKeys: ReadonlySet<string>;
  /** The mode the query runs in: the request's queryMode if given, else the index's mode. */
  indexMode: IndexMode;
  limits: Limits;
}

/** AWS: "a single query filter can use up to 100 filter constraints" on ENHANCED indexes. */
export const MAX_FILTER_CONSTRAINTS = 100;
/** AWS documents no depth limit; this bounds recursion so a hostile filter cannot blow the stack. */
export const MAX_FILTER_DEPTH = 16;

const COMPARISON_OPS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$startsWith']);
const LOGICAL_OPS = new Set(['$and', '$or']);

export function parseFilter(doc: unknown, ctx: FilterContext): FilterNode {
  checkShapeBounds(doc);
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(doc), 'utf8');
  } catch {
    fail(`Filter is nested deeper than ${MAX_FILTER_DEPTH} levels`); // stringify overflows the stack first
  }
  if (size > ctx.limits.maxFilterBytes) {
    fail(`Filter is ${size} bytes, over the limit of ${ctx.limits.maxFilterBytes} bytes by ${size - ctx.limits.maxFilterBytes}`);
  }
  const parser = new Parser(ctx);
  const node = parser.object(doc, 'filter');
  if (ctx.indexMode === 'ENHANCED' && parser.constraints > MAX_FILTER_CONSTRAINTS) {
    fail(
      `Filter uses ${parser.constraints} filter constraints, over the limit of ${MAX_FILTER_CONSTRAINTS} ` +
        `by ${parser.constraints - MAX_FILTER_CONSTRAINTS} (each value the filter evaluates counts as one)`,
    );
  }
  return node;
}

function fail(message: string): never {
  throw ValidationError.field('/filter', message);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Iterative depth check before anything recursive (JSON.stringify included) touches the document. */
function checkShapeBounds(doc: unknown): void {
  const stack: [unknown, number][] = [[doc, 1]];
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    // Each filter level is an object plus an array ($and/$or) or operator object: allow two JSON
    // levels per filter level, plus one for a $in array.
    if (depth > MAX_FILTER_DEPTH * 2 + 1) fail(`Filter is nested deeper than ${MAX_FILTER_DEPTH} levels`);
    for (const child of Object.values(value as object)) stack.push([child, depth + 1]);
  }
}

class Parser {
  constraints = 0;
  constructor(private readonly ctx: FilterContext) {}

  /** A filter object: its members are ANDed together. */
  object(doc: unknown, at: string, depth = 1): FilterNode {
    if (!isPlainObject(doc)) fail(`Filter at ${at} must be an object, got ${describe(doc)}`);
    if (depth > MAX_FILTER_DEPTH) fail(`Filter is nested deeper than ${MAX_FILTER_DEPTH} levels (at ${at})`);
    const entries = Object.entries(doc);
    if (entries.length === 0) fail(`Filter at ${at} must not be an empty object`);
    const parts: FilterNode[] = [];
    for (const [name, value] of entries) {
      const path = `${at}.${name}`;
      if (LOGICAL_OPS.has(name)) parts.push(this.logical(name === '$and' ? 'and' : 'or', value, path, depth));
      else if (name.startsWith('$')) {
        fail(
          COMPARISON_OPS.has(name)
            ? `Operator ${name} at ${at} must be applied to a metadata key, e.g. {"key": {"${name}": ...}}`
            : `Unknown operator ${name} at ${at}`,
        );
      } else parts.push(...this.field(name, value, path));
    }
    return parts.length === 1 ? parts[0] : { op: 'and', children: parts };
  }

  private logical(op: 'and' | 'or', value: unknown, at: string, depth: number): FilterNode {
    const name = op === 'and' ? '$and' : '$or';
    if (!Array.isArray(value)) fail(`${name} at ${at} must be a non-empty array of filters, got ${describe(value)}`);
    if (value.length === 0) fail(`${name} at ${at} must be a non-empty array of filters`);
    return { op, children: value.map((child, i) => this.object(child, `${at}[${i}]`, depth + 1)) };
  }

  private field(key: string, value: unknown, at: string): FilterNode[] {
    if (this.ctx.nonFilterableKeys.has(key)) {
      fail(`Metadata key '${key}' is non-filterable in this index and cannot be used in a filter`);
    }
    if (isScalar(value)) return [this.comparison(key, '$eq', value, at)];
    if (!isPlainObject(value)) {
      fail(`Value of '${key}' at ${at} must be a string, number, boolean or an operator object, got ${describe(value)}`);
    }
    const ops = Object.entries(value);
    if (ops.length === 0) fail(`Operator object for '${key}' at ${at} must not be empty`);
    return ops.map(([op, operand]) => this.comparison(key, op, operand, `${at}.${op}`));
  }

  private comparison(key: string, op: string, operand: unknown, at: string): FilterNode {
    switch (op) {
      case '$eq':
      case '$ne':
        if (!isScalar(operand)) fail(`${op} at ${at} takes a string, number or boolean, got ${describe(operand)}`);
        this.constraints += 1;
        return { op: op === '$eq' ? 'eq' : 'ne', key, value: operand };
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        if (typeof operand !== 'number' || !Number.isFinite(operand)) {
          fail(`${op} at ${at} takes a number, got ${describe(operand)}`);
        }
        this.constraints += 1;
        return { op: op.slice(1) as 'gt' | 'gte' | 'lt' | 'lte', key, value: operand };
      case '$in':
      case '$nin': {
        if (!Array.isArray(operand) || operand.length === 0) {
          fail(`${op} at ${at} takes a non-empty array of strings, numbers or booleans, got ${describe(operand)}${Array.isArray(operand) ? ' (empty)' : ''}`);
        }
        operand.forEach((v, i) => {
          if (!isScalar(v)) fail(`${op} at ${at}[${i}] must be a string, number or boolean, got ${describe(v)}`);
        });
        this.constraints += operand.length;
        return { op: op === '$in' ? 'in' : 'nin', key, values: operand as Scalar[] };
      }
      case '$exists':
        if (typeof operand !== 'boolean') fail(`$exists at ${at} takes a boolean, got ${describe(operand)}`);
        this.constraints += 1;
        return { op: 'exists', key, exists: operand };
      case '$startsWith':
        if (this.ctx.indexMode !== 'ENHANCED') {
          fail(`$startsWith at ${at} requires ENHANCED query behavior: use an ENHANCED index or set queryMode to ENHANCED`);
        }
        if (typeof operand !== 'string') fail(`$startsWith at ${at} takes a string, got ${describe(operand)}`);
        this.constraints += 1;
        return { op: 'startsWith', key, prefix: operand };
      default:
        fail(LOGICAL_OPS.has(op) ? `${op} at ${at} must be at the top of a filter object, not inside a key's operators` : `Unknown operator ${op} at ${at}`);
    }
  }
}

function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

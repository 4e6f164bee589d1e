// The Condition element: every operator IAM documents, `...IfExists`, and the set operators
// ForAnyValue:/ForAllValues: for multivalued keys. Operators AND together, keys within an operator
// AND together, the values of one key OR together (NOR for the negated operators).
import { inRange, parseRange } from './ip';
import { compile, matchArnCondition, matchTokens, type VariableLookup } from './pattern';

/** Request context: condition key (lower case) → its value, a list for multivalued keys. */
export type ContextValues = ReadonlyMap<string, string | readonly string[]>;

type Matcher = (policy: string, actual: string, variables: VariableLookup | undefined) => boolean | undefined;

// `undefined` from a matcher: the policy or request value is not of the operator's type; the
// condition then fails, negated or not.
const num = (s: string) => (/^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(s.trim()) ? Number(s) : undefined);
// The W3C profile of ISO 8601: YYYY-MM, YYYY-MM-DD, then hh:mm[:ss[.s]] and a zone. (A bare YYYY
// reads as epoch seconds.)
const ISO_DATE = /^\d{4}-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?)?$/;
/** ISO 8601 or epoch seconds, as the Date operators accept (milliseconds since the epoch). */
function date(s: string): number | undefined {
  const t = s.trim();
  if (/^[0-9]+$/.test(t)) return Number(t) * 1000;
  if (!ISO_DATE.test(t)) return undefined;
  const ms = Date.parse(/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t) ? `${t}Z` : t);
  return Number.isNaN(ms) ? undefined : ms;
}

function compare<T>(parse: (s: string) => T | undefined, test: (a: T, p: T) => boolean): Matcher {
  return (policy, actual) => {
    const p = parse(policy);
    if (p === undefined) return undefined;
    const a = parse(actual);
    return a === undefined ? undefined : test(a, p);
  };
}

const text = (wildcards: boolean, ignoreCase = false): Matcher => (policy, actual, variables) => {
  const tokens = compile(policy, { variables, wildcards });
  return tokens === undefined ? undefined : matchTokens(tokens, actual, ignoreCase);
};

const BOOL = (s: string) => (/^(true|false)$/i.test(s) ? s.toLowerCase() : undefined);

interface Operator {
  match: Matcher;
  negated: boolean;
}

const positive: Record<string, Matcher> = {
  stringequals: text(false),
  stringequalsignorecase: text(false, true),
  stringlike: text(true),
  numericequals: compare(num, (a, p) => a === p),
  numericlessthan: compare(num, (a, p) => a < p),
  numericlessthanequals: compare(num, (a, p) => a <= p),
  numericgreaterthan: compare(num, (a, p) => a > p),
  numericgreaterthanequals: compare(num, (a, p) => a >= p),
  dateequals: compare(date, (a, p) => a === p),
  datelessthan: compare(date, (a, p) => a < p),
  datelessthanequals: compare(date, (a, p) => a <= p),
  dategreaterthan: compare(date, (a, p) => a > p),
  dategreaterthanequals: compare(date, (a, p) => a >= p),
  bool: (policy, actual) => {
    const p = BOOL(policy);
    const a = BOOL(actual);
    return p === undefined || a === undefined ? undefined : a === p;
  },
  binaryequals: (policy, actual) => policy === actual,
  ipaddress: (policy, actual) => {
    const range = parseRange(policy);
    return range === undefined ? undefined : inRange(range, actual);
  },
  arnequals: (policy, actual, variables) => {
    const tokens = compile(policy, { variables, wildcards: true });
    return tokens === undefined ? undefined : matchArnCondition(tokens, actual);
  },
};
positive.arnlike = positive.arnequals;

const NEGATED: Record<string, string> = {
  stringnotequals: 'stringequals',
  stringnotequalsignorecase: 'stringequalsignorecase',
  stringnotlike: 'stringlike',
  numericnotequals: 'numericequals',
  datenotequals: 'dateequals',
  notipaddress: 'ipaddress',
  arnnotequals: 'arnequals',
  arnnotlike: 'arnlike',
};

export interface ParsedOperator {
  set?: 'any' | 'all';
  ifExists: boolean;
  /** Lower-case base name, e.g. `stringlike`, or `null`. */
  base: string;
  operator?: Operator;
}

/** Parses `ForAnyValue:StringLikeIfExists` and the like (case-insensitive); undefined when unknown. */
export function parseOperator(name: string): ParsedOperator | undefined {
  const m = /^(?:(foranyvalue|forallvalues):)?(.+?)(ifexists)?$/i.exec(name);
  if (!m) return undefined;
  const set = m[1] ? (m[1].toLowerCase() === 'foranyvalue' ? 'any' : 'all') : undefined;
  const base = m[2].toLowerCase();
  const ifExists = m[3] !== undefined;
  if (base === 'null') return set || ifExists ? undefined : { base, ifExists };
  // Own keys only: `constructor` or `__proto__` must not find Object.prototype's members.
  if (Object.hasOwn(positive, base)) return { set, ifExists, base, operator: { match: positive[base], negated: false } };
  if (Object.hasOwn(NEGATED, base)) return { set, ifExists, base, operator: { match: positive[NEGATED[base]], negated: true } };
  return undefined;
}

/** Condition values as IAM reads them: strings, numbers and booleans, one or a list. */
export function conditionValues(raw: unknown): string[] | undefined {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) return undefined;
  const out: string[] = [];
  for (const v of list) {
    if (typeof v === 'string') out.push(v);
    else if (typeof v === 'number' || typeof v === 'boolean') out.push(String(v));
    else return undefined;
  }
  return out;
}

/**
 * One request value against the policy values: any matches (or, negated, none does). A value that
 * cannot be used (a variable without a value, not of the operator's type) matches nothing; a
 * negated operator cannot vouch for "matches none" then, so it fails (undefined).
 */
function single(op: Operator, values: string[], actual: string, variables: VariableLookup | undefined): boolean | undefined {
  let any = false;
  for (const v of values) {
    const r = op.match(v, actual, variables);
    if (r === undefined) {
      if (op.negated) return undefined;
    } else if (r) any = true;
  }
  return op.negated ? !any : any;
}

function nullCheck(values: string[], present: boolean): boolean {
  const flags = values.map(BOOL);
  if (flags.some((f) => f === undefined)) return false;
  return flags.some((f) => (f === 'true') === !present);
}

export function evaluateOperator(parsed: ParsedOperator, values: string[], actual: string | readonly string[] | undefined, variables: VariableLookup | undefined): boolean {
  if (parsed.base === 'null') return nullCheck(values, actual !== undefined);
  const op = parsed.operator!;
  if (parsed.set) {
    if (actual === undefined) return parsed.set === 'all';
    const set = typeof actual === 'string' ? [actual] : actual;
    const results = set.map((a) => single(op, values, a, variables));
    if (results.some((r) => r === undefined)) return false;
    return parsed.set === 'all' ? results.every(Boolean) : results.some(Boolean);
  }
  if (actual === undefined) return parsed.ifExists || op.negated;
  // A multivalued key needs a set operator; a plain operator never matches it.
  if (typeof actual !== 'string') return false;
  return single(op, values, actual, variables) === true;
}

/** The whole Condition block of a statement; undefined when it is malformed (the statement then does not apply). */
export function evaluateConditions(condition: unknown, context: ContextValues, variables: VariableLookup | undefined): boolean {
  if (condition === undefined) return true;
  if (typeof condition !== 'object' || condition === null || Array.isArray(condition)) return false;
  for (const [name, block] of Object.entries(condition)) {
    const parsed = parseOperator(name);
    if (!parsed || typeof block !== 'object' || block === null || Array.isArray(block)) return false;
    for (const [key, raw] of Object.entries(block)) {
      const values = conditionValues(raw);
      if (!values) return false;
      if (!evaluateOperator(parsed, values, context.get(key.toLowerCase()), variables)) return false;
    }
  }
  return true;
}

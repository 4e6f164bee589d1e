// IAM's wildcard patterns (`*` any run of characters, `?` one character) and policy variables
// (`${aws:username}`, `${key, 'default'}`, and the escapes `${*}`, `${?}`, `${$}` for literal
// characters). A pattern is compiled to tokens so a substituted value or an escape is always
// literal: a tag value `a*` never turns into a wildcard.

export type Token = string | { wild: '*' | '?' };

/** Looks a policy variable up; undefined when the request has no single value for it. */
export type VariableLookup = (key: string) => string | undefined;

const ESCAPES: Record<string, string> = { '*': '*', '?': '?', $: '$' };
const VARIABLE = /^\s*([^,'\s]+)\s*(?:,\s*'([^']*)'\s*)?$/;

export interface CompileOptions {
  /** Substitute `${…}` (policy Version 2012-10-17); otherwise it is literal text. */
  variables?: VariableLookup;
  /** `*` and `?` are wildcards (Resource, StringLike, ArnLike); otherwise literal (StringEquals). */
  wildcards: boolean;
  /** At validation time a variable's value is unknown: treat each one as `*`. */
  unknownVariablesAsWildcards?: boolean;
}

/** The pattern's tokens; undefined when a variable has no value (the pattern then matches nothing). */
export function compile(pattern: string, options: CompileOptions): Token[] | undefined {
  const tokens: Token[] = [];
  const literal = (s: string) => {
    if (!s) return;
    if (typeof tokens[tokens.length - 1] === 'string') tokens[tokens.length - 1] += s;
    else tokens.push(s);
  };
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '$' && pattern[i + 1] === '{' && (options.variables || options.unknownVariablesAsWildcards)) {
      const end = pattern.indexOf('}', i + 2);
      if (end !== -1) {
        const body = pattern.slice(i + 2, end);
        i = end + 1;
        if (Object.hasOwn(ESCAPES, body)) {
          literal(ESCAPES[body]);
          continue;
        }
        if (options.unknownVariablesAsWildcards) {
          tokens.push({ wild: '*' });
          continue;
        }
        const m = VARIABLE.exec(body);
        const value = m ? (options.variables!(m[1]) ?? m[2]) : undefined;
        if (value === undefined) return undefined;
        literal(value);
        continue;
      }
    }
    if (options.wildcards && (c === '*' || c === '?')) tokens.push({ wild: c });
    else literal(c);
    i++;
  }
  return tokens;
}

/** Whether `tokens` match all of `text`. Iterative with backtracking to the last `*` (linear for typical patterns). */
export function matchTokens(tokens: Token[], text: string, ignoreCase = false): boolean {
  // Flatten into single-character steps: a literal char, '?' or '*'.
  const steps: (string | 1 | 2)[] = [];
  for (const t of tokens) {
    // UTF-16 code units on both sides (`text[i]` below): a character outside the BMP is two steps.
    if (typeof t === 'string') {
      const lit = ignoreCase ? t.toLowerCase() : t;
      for (let k = 0; k < lit.length; k++) steps.push(lit[k]);
    } else steps.push(t.wild === '*' ? 2 : 1);
  }
  const s = ignoreCase ? text.toLowerCase() : text;
  let p = 0;
  let i = 0;
  let star = -1;
  let mark = 0;
  while (i < s.length) {
    const step = steps[p];
    if (p < steps.length && (step === 1 || step === s[i])) {
      p++;
      i++;
    } else if (p < steps.length && step === 2) {
      star = p++;
      mark = i;
    } else if (star !== -1) {
      p = star + 1;
      i = ++mark;
    } else return false;
  }
  while (p < steps.length && steps[p] === 2) p++;
  return p === steps.length;
}

/** Splits tokens on literal `:` into at most `max` parts (the last keeps the rest, colons included). */
export function splitTokens(tokens: Token[], max: number): Token[][] {
  const parts: Token[][] = [[]];
  for (const t of tokens) {
    if (typeof t !== 'string') {
      parts[parts.length - 1].push(t);
      continue;
    }
    let rest = t;
    let colon: number;
    while (parts.length < max && (colon = rest.indexOf(':')) !== -1) {
      if (colon > 0) parts[parts.length - 1].push(rest.slice(0, colon));
      parts.push([]);
      rest = rest.slice(colon + 1);
    }
    if (rest) parts[parts.length - 1].push(rest);
  }
  return parts;
}

/** Splits an ARN into its six parts: arn, partition, service, region, account, resource (which may hold colons). */
export function splitArn(arn: string): string[] {
  const parts: string[] = [];
  let rest = arn;
  for (let n = 0; n < 5; n++) {
    const colon = rest.indexOf(':');
    if (colon === -1) break;
    parts.push(rest.slice(0, colon));
    rest = rest.slice(colon + 1);
  }
  parts.push(rest);
  return parts;
}

/**
 * The Resource element: `*` matches anything; otherwise each colon-separated part is matched on
 * its own (a wildcard does not cross a colon), and a pattern with fewer parts matches the rest of
 * the ARN with its last part (so `arn:aws:s3vectors:*` covers every s3vectors ARN).
 */
export function matchResource(tokens: Token[], arn: string): boolean {
  const pattern = splitTokens(tokens, 6);
  const target = splitArn(arn);
  if (pattern.length > target.length) return false;
  const last = pattern.length - 1;
  for (let i = 0; i < last; i++) if (!matchTokens(pattern[i], target[i])) return false;
  return matchTokens(pattern[last], target.slice(last).join(':'));
}

/** ArnEquals/ArnLike: both sides have all six parts, each matched on its own, case-sensitively. */
export function matchArnCondition(tokens: Token[], value: string): boolean {
  const pattern = splitTokens(tokens, 6);
  const target = splitArn(value);
  if (pattern.length !== 6 || target.length !== 6 || target[0] !== 'arn') return false;
  return pattern.every((part, i) => matchTokens(part, target[i]));
}

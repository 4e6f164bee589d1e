// Whether a Resource pattern of a bucket policy can match the bucket or one of its indexes: IAM
// accepts wildcards in any ARN part, so `arn:aws:s3vectors:*:*:bucket/NAME/*` is as good as the
// exact ARN, while a pattern that can only match other buckets (or other regions) governs nothing.
import { compile, matchTokens, splitArn, splitTokens, type Token } from './pattern';

type Step = string | 1 | 2; // a literal character, `?`, `*`

function steps(tokens: Token[]): Step[] {
  const out: Step[] = [];
  for (const t of tokens) {
    if (typeof t === 'string') for (let k = 0; k < t.length; k++) out.push(t[k]); // code units, as the walk reads the ARN
    else out.push(t.wild === '*' ? 2 : 1);
  }
  return out;
}

/**
 * Does the pattern match `prefix` or `prefix/index/<name>` for some index name (no `/`)?
 * A walk over pairs (pattern position, position in the target language): positions 0..P-1 read
 * `prefix`, P..P+I-1 read `/index/`, and `tail` is inside the index name (at least one character).
 */
function canMatchBucketOrIndex(pattern: Step[], prefix: string): boolean {
  const suffix = '/index/';
  const text = prefix + suffix;
  const P = prefix.length;
  const tail = text.length; // inside the index name, after at least one character
  const accepting = (t: number) => t === P || t === tail;
  // Characters the language can read at position t, and where each leads.
  const next = (t: number): [string, number][] => {
    if (t < text.length) return [[text[t], t + 1]];
    if (t === text.length) return [['a', tail]]; // the index name's first character
    return [['a', tail]]; // any further character other than '/'
  };
  const readsChar = (t: number, ch: string): number | undefined => {
    if (t < text.length) return text[t] === ch ? t + 1 : undefined;
    return ch === '/' ? undefined : tail;
  };
  const seen = new Set<string>();
  const stack: [number, number][] = [[0, 0]];
  while (stack.length) {
    const [p, t] = stack.pop()!;
    const key = `${p},${t}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (p === pattern.length) {
      if (accepting(t)) return true;
      continue;
    }
    const step = pattern[p];
    if (step === 2) {
      stack.push([p + 1, t]); // `*` matches nothing more
      for (const [, to] of next(t)) stack.push([p, to]); // or one more character
    } else if (step === 1) {
      for (const [, to] of next(t)) stack.push([p + 1, to]);
    } else {
      const to = readsChar(t, step);
      if (to !== undefined) stack.push([p + 1, to]);
    }
  }
  return false;
}

/** True when `pattern` (a Resource or NotResource entry) can match `bucketArn` or an index in it. */
export function canMatchBucket(pattern: string, bucketArn: string): boolean {
  if (pattern === '*') return true;
  // Variables are unknown until a request arrives: any value could make the pattern match.
  const tokens = compile(pattern, { wildcards: true, unknownVariablesAsWildcards: true })!;
  const parts = splitTokens(tokens, 6);
  const target = splitArn(bucketArn);
  if (parts.length > target.length) return false;
  const last = parts.length - 1;
  for (let i = 0; i < last; i++) if (!matchTokens(parts[i], target[i])) return false;
  return canMatchBucketOrIndex(steps(parts[last]), target.slice(last).join(':'));
}

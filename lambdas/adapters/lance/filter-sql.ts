// Compiles a FilterNode to a LanceDB (DataFusion SQL) predicate over the columns of
// metadata-columns.ts. Pure. User text only ever reaches SQL as a quoted string literal built by
// `literal`, or as hex (JSON member names), so it is matched literally, never executed.
import type { FilterNode } from '../../core/filter/ast';
import {
  NUM_MAX_COLUMN,
  NUM_MIN_COLUMN,
  TOKENS_COLUMN,
  existsToken,
  numberMember,
  stringPrefixToken,
  valueToken,
} from './metadata-columns';

/**
 * $ne / $nin are the negation of $eq / $in: a vector whose key is missing, holds another type, or
 * holds a list with no matching element, matches. AWS does not state the rule for missing keys;
 * this is MongoDB's and the plain reading of "Not equal" / "Match none of the values".
 */
export function filterToSql(node: FilterNode): string {
  switch (node.op) {
    case 'and':
    case 'or':
      return `(${node.children.map(filterToSql).join(node.op === 'and' ? ' AND ' : ' OR ')})`;
    case 'eq':
      return hasToken(valueToken(node.key, node.value));
    case 'ne':
      return `(NOT ${hasToken(valueToken(node.key, node.value))})`;
    case 'in':
      return hasAnyToken(node.values.map((v) => valueToken(node.key, v)));
    case 'nin':
      return `(NOT ${hasAnyToken(node.values.map((v) => valueToken(node.key, v)))})`;
    case 'exists':
      return node.exists ? hasToken(existsToken(node.key)) : `(NOT ${hasToken(existsToken(node.key))})`;
    case 'gt':
    case 'gte':
      // Some number of the key is > (>=) v exactly when the largest one is.
      return `(json_get_float(${NUM_MAX_COLUMN}, ${literal(numberMember(node.key))}) ${node.op === 'gt' ? '>' : '>='} ${numberLiteral(node.value)})`;
    case 'lt':
    case 'lte':
      return `(json_get_float(${NUM_MIN_COLUMN}, ${literal(numberMember(node.key))}) ${node.op === 'lt' ? '<' : '<='} ${numberLiteral(node.value)})`;
    case 'startsWith':
      // Tokens are joined with chr(1), which never occurs raw inside a token (JSON escapes it), so
      // chr(1) + prefix-token can only match at the start of one string-value token.
      return (
        `(strpos(concat(chr(1), array_to_string(${TOKENS_COLUMN}, chr(1))), ` +
        `concat(chr(1), ${literal(stringPrefixToken(node.key, node.prefix))})) > 0)`
      );
    default: {
      const unknown: never = node;
      throw new Error(`Unhandled filter node ${JSON.stringify(unknown)}`);
    }
  }
}

function hasToken(token: string): string {
  return `array_has(${TOKENS_COLUMN}, ${literal(token)})`;
}

function hasAnyToken(tokens: string[]): string {
  return `array_has_any(${TOKENS_COLUMN}, make_array(${[...new Set(tokens)].map(literal).join(', ')}))`;
}

/** A SQL string literal. Quotes are doubled; tokens are JSON text, so no raw control chars. */
export function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function numberLiteral(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`Filter numbers are finite, got ${value}`);
  // A double literal: exponent form keeps huge and tiny values exact and parseable.
  return `CAST(${literal(String(value))} AS DOUBLE)`;
}

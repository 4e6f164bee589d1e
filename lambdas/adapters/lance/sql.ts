// SQL literals for LanceDB (DataFusion) predicates. Standard SQL strings: a quote is doubled and
// backslashes are literal, so any user string becomes exactly one literal.
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function keyIn(keys: readonly string[]): string {
  return `key IN (${keys.map(sqlString).join(', ')})`;
}

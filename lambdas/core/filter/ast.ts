// A parsed, validated metadata filter. Produced by parse.ts from the wire document; adapters
// compile it (the LanceDB adapter to a SQL predicate). Values are JSON scalars.
export type Scalar = string | number | boolean;

export type FilterNode =
  | { op: 'and'; children: FilterNode[] }
  | { op: 'or'; children: FilterNode[] }
  | { op: 'eq' | 'ne'; key: string; value: Scalar }
  | { op: 'gt' | 'gte' | 'lt' | 'lte'; key: string; value: number }
  | { op: 'in' | 'nin'; key: string; values: Scalar[] }
  | { op: 'exists'; key: string; exists: boolean }
  | { op: 'startsWith'; key: string; prefix: string };

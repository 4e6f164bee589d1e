// What the stack needs to know about each operation, derived from the service model's operation
// table (lambdas/core/model) — never from a hand-written list. Adding an operation to the model adds
// its route, its function and its grants.
import { operations, shapes, type Operation } from '../lambdas/core/model';

/** Sizing class: queries and writes get more memory (and so more CPU) than catalog operations. */
export type OperationClass = 'query' | 'write' | 'read' | 'control';

/** What an operation may do to the catalog table and to the vector data (bucket + commit table). */
export type Access = 'none' | 'read' | 'write';

export interface OperationSpec {
  name: string;
  /** PutVectors → put-vectors: the entry file lambdas/operations/<kebab>.ts. */
  kebab: string;
  method: string;
  /** The wire path, e.g. /tags/{resourceArn}. */
  path: string;
  operationClass: OperationClass;
  catalog: Exclude<Access, 'none'>;
  /** Issues pagination cursors: writes CURSOR# items even when it is otherwise read-only. */
  issuesCursors: boolean;
  vectors: Access;
  /** The IAM action a caller is authorized for (s3vectors:PutVectors). */
  iamAction: string;
}

export const kebabCase = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

const isReadOnly = (name: string) => /^(Get|List|Query)/.test(name);
/** Operations on vector data (…Vectors) read or write the Lance tables; DeleteIndex drops one. */
const vectorAccess = (name: string): Access =>
  /Vectors$/.test(name) ? (isReadOnly(name) ? 'read' : 'write') : name === 'DeleteIndex' ? 'write' : 'none';

function outputHasNextToken(op: Operation): boolean {
  const members = op.output ? shapes[op.output.shape]?.members : undefined;
  return !!members && 'nextToken' in members;
}

function classOf(op: Operation, vectors: Access): OperationClass {
  if (op.name.startsWith('Query')) return 'query';
  if (vectors === 'write') return 'write';
  if (vectors === 'read') return 'read';
  return 'control';
}

export function operationSpec(op: Operation): OperationSpec {
  const vectors = vectorAccess(op.name);
  return {
    name: op.name,
    kebab: kebabCase(op.name),
    method: op.http.method,
    path: op.http.requestUri.split('?')[0],
    operationClass: classOf(op, vectors),
    catalog: isReadOnly(op.name) ? 'read' : 'write',
    issuesCursors: outputHasNextToken(op),
    vectors,
    iamAction: `s3vectors:${op.name}`,
  };
}

/** Every operation of the model, sorted by name. */
export const operationSpecs: OperationSpec[] = Object.values(operations)
  .map(operationSpec)
  .sort((a, b) => a.name.localeCompare(b.name));

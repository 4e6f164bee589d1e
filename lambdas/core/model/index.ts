// The service model drives routing, validation and error statuses. `service-2.json` is AWS's model
// byte for byte; `extensions.json` adds what AWS shipped after it (index modes and their operations),
// written from the current API reference.
import serviceModel from './service-2.json';
import extensions from './extensions.json';

export interface MemberRef {
  shape: string;
  location?: 'uri' | 'querystring' | 'header';
  locationName?: string;
}

export interface Shape {
  type: 'structure' | 'string' | 'integer' | 'long' | 'boolean' | 'float' | 'double' | 'list' | 'map' | 'timestamp' | 'blob';
  members?: Record<string, MemberRef>;
  required?: string[];
  member?: MemberRef;
  key?: MemberRef;
  value?: MemberRef;
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  union?: boolean;
  document?: boolean;
  exception?: boolean;
  error?: { httpStatusCode?: number };
}

export interface Operation {
  name: string;
  http: { method: string; requestUri: string; responseCode: number };
  input?: { shape: string };
  output?: { shape: string };
  errors?: { shape: string }[];
  documentation?: string;
}

interface ModelDocument {
  operations: Record<string, Omit<Operation, 'name'>>;
  shapes: Record<string, Shape>;
}

const base = serviceModel as unknown as ModelDocument;
const extra = extensions as unknown as ModelDocument & { memberAdditions: Record<string, Record<string, MemberRef>> };

export const shapes: Record<string, Shape> = { ...base.shapes, ...extra.shapes };
for (const [shapeName, members] of Object.entries(extra.memberAdditions)) {
  const shape = shapes[shapeName];
  shapes[shapeName] = { ...shape, members: { ...shape.members, ...members } };
}

export const operations: Record<string, Operation> = Object.fromEntries(
  Object.entries({ ...base.operations, ...extra.operations }).map(([name, op]) => [name, { name, ...op }]),
);

export type OperationName = keyof typeof operations & string;
export const operationNames: string[] = Object.keys(operations).sort();

export function inputShape(op: Operation): Shape | undefined {
  return op.input ? shapes[op.input.shape] : undefined;
}

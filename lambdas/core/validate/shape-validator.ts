// One generic walk over the model's shapes: required members, types, lengths, ranges, patterns,
// enums and unions. Like AWS's Smithy server framework it stops at the first violation (members in
// model order, list items before the list's own length) and words it the way that framework does.
import { FieldProblem, ValidationError } from '../errors';
import { MemberRef, Shape, shapes } from '../model';

const patternCache = new Map<string, RegExp>();

function compiledPattern(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) {
    // Model patterns describe the whole value (AWS rejects partial matches); \p{..} needs the u flag.
    re = new RegExp(`^(?:${pattern})$`, 'u');
    patternCache.set(pattern, re);
  }
  return re;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Float32Array or Float64Array, from any realm (a worker's message, a test's VM context). */
function isFloatArray(value: unknown): value is Float32Array | Float64Array {
  if (!ArrayBuffer.isView(value)) return false;
  const tag = Object.prototype.toString.call(value);
  return tag === '[object Float32Array]' || tag === '[object Float64Array]';
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'structure';
  return typeof value;
}

const typeNames: Record<string, string> = {
  structure: 'a structure',
  list: 'a list',
  map: 'a map',
  string: 'a string',
  integer: 'an integer',
  long: 'an integer',
  float: 'a number',
  double: 'a number',
  boolean: 'a boolean',
};

/** Per-shape maximums that configuration may raise above the model's (AWS's) values. */
export type MaxOverrides = Readonly<Record<string, number>>;

/** "between 3 and 63, inclusive" / "greater than or equal to 1" / "less than or equal to 10". */
function bounds(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `between ${min} and ${max}, inclusive`;
  if (min !== undefined) return `greater than or equal to ${min}`;
  return `less than or equal to ${max}`;
}

const violated = (path: string, rule: string, length?: number) =>
  `Value${length === undefined ? '' : ` with length ${length}`} at '${path || '/'}' failed to satisfy constraint: Member ${rule}`;

/** A structure's members in model order and its required names, built once per shape (every vector of a PutVectors visits them). */
const structures = new WeakMap<object, { members: [string, MemberRef][]; required: ReadonlySet<string> }>();

function structureOf(shape: Shape): { members: [string, MemberRef][]; required: ReadonlySet<string> } {
  const key = shape.members ?? shape;
  let found = structures.get(key);
  if (!found) structures.set(key, (found = { members: Object.entries(shape.members ?? {}), required: new Set(shape.required ?? []) }));
  return found;
}

/** `[...s].length` without building the array: a surrogate pair is one code point, a lone surrogate one too. */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

class Walker {
  problem: FieldProblem | undefined;

  constructor(private readonly overrides: MaxOverrides) {}

  private shapeOf(ref: MemberRef): Shape {
    const shape = shapes[ref.shape];
    if (!shape) throw new Error(`model has no shape ${ref.shape}`);
    const max = this.overrides[ref.shape];
    return max === undefined ? shape : { ...shape, max };
  }

  private add(path: string, message: string): void {
    this.problem ??= { path, message };
  }

  get done(): boolean {
    return this.problem !== undefined;
  }

  visit(ref: MemberRef, value: unknown, path: string): void {
    const shape = this.shapeOf(ref);
    if (shape.document) return; // free JSON (metadata, filter): checked by its own module
    switch (shape.type) {
      case 'structure':
        return this.structure(shape, value, path);
      case 'list':
        return this.list(shape, value, path);
      case 'map':
        return this.map(shape, value, path);
      case 'string':
        return this.string(shape, value, path);
      case 'integer':
      case 'long':
        if (typeof value !== 'number' || !Number.isInteger(value)) return this.typeMismatch(shape, value, path);
        return this.range(shape, value, path);
      case 'float':
      case 'double':
        if (typeof value !== 'number') return this.typeMismatch(shape, value, path);
        return;
      case 'boolean':
        if (typeof value !== 'boolean') return this.typeMismatch(shape, value, path);
        return;
      default:
        return;
    }
  }

  // AWS rejects a mistyped member before validation (its wording is not recorded): ours, same frame.
  private typeMismatch(shape: Shape, value: unknown, path: string): void {
    this.add(path, violated(path, `must be ${typeNames[shape.type] ?? shape.type}, got ${describeType(value)}`));
  }

  private structure(shape: Shape, value: unknown, path: string): void {
    if (!isPlainObject(value)) return this.typeMismatch(shape, value, path);
    const { required, members } = structureOf(shape);
    let present = 0;
    for (const [name, ref] of members) {
      const member = value[name];
      if (member === undefined || member === null || this.isEmptyUnion(ref, member)) {
        if (required.has(name)) this.add(`${path}/${name}`, violated(`${path}/${name}`, 'must not be null'));
      } else {
        present++;
        this.visit(ref, member, `${path}/${name}`);
      }
      if (this.done) return;
    }
    if (shape.union && present !== 1) {
      this.add(path, violated(path, `must have exactly one of ${members.map(([name]) => name).join(', ')} set`));
    }
  }

  // smithy-rs reads a union object that sets no variant as no value (JsonParserGenerator,
  // deserializeUnion): a required union given `{}` is a missing member, as AWS reports it.
  private isEmptyUnion(ref: MemberRef, value: unknown): boolean {
    return !!shapes[ref.shape]?.union && isPlainObject(value) && Object.values(value).every((v) => v === undefined || v === null);
  }

  private list(shape: Shape, value: unknown, path: string): void {
    const member = shape.member!;
    const memberShape = shapes[member.shape];
    // Vector data parsed off the event loop (ParsedBody): only all-number lists become typed arrays.
    if (memberShape.type === 'float' && isFloatArray(value)) {
      return this.length(shape, value.length, path);
    }
    if (!Array.isArray(value)) return this.typeMismatch(shape, value, path);
    if (memberShape.type === 'float') {
      // Vector data: the hot path (up to 500 × 4096 numbers), so no per-element path strings.
      for (let i = 0; i < value.length; i++) {
        if (typeof value[i] !== 'number') return this.typeMismatch(memberShape, value[i], `${path}/${i}`);
      }
    } else {
      for (let i = 0; i < value.length && !this.done; i++) this.visit(member, value[i], `${path}/${i}`);
    }
    this.length(shape, value.length, path);
  }

  private map(shape: Shape, value: unknown, path: string): void {
    if (!isPlainObject(value)) return this.typeMismatch(shape, value, path);
    const entries = Object.entries(value);
    for (const [key, entry] of entries) {
      this.visit(shape.key!, key, path); // AWS names the map, not the key, for a bad key
      this.visit(shape.value!, entry, `${path}/${key}`);
      if (this.done) return;
    }
    this.length(shape, entries.length, path);
  }

  private length(shape: Shape, length: number, path: string): void {
    if ((shape.min !== undefined && length < shape.min) || (shape.max !== undefined && length > shape.max)) {
      this.add(path, violated(path, `must have length ${bounds(shape.min, shape.max)}`, length));
    }
  }

  private string(shape: Shape, value: unknown, path: string): void {
    if (typeof value !== 'string') return this.typeMismatch(shape, value, path);
    if (shape.min !== undefined || shape.max !== undefined) {
      this.length(shape, codePoints(value), path); // lengths count Unicode code points, as Smithy does
      if (this.done) return;
    }
    if (shape.pattern !== undefined && !compiledPattern(shape.pattern).test(value)) {
      this.add(path, violated(path, `must satisfy regular expression pattern: ${shape.pattern}`));
    }
    if (shape.enum !== undefined && !shape.enum.includes(value)) {
      this.add(path, violated(path, `must satisfy enum value set: [${shape.enum.join(', ')}]`));
    }
  }

  private range(shape: Shape, value: number, path: string): void {
    if ((shape.min !== undefined && value < shape.min) || (shape.max !== undefined && value > shape.max)) {
      this.add(path, violated(path, `must be ${bounds(shape.min, shape.max)}`));
    }
  }
}

/** Validates an operation's input against its model shape; throws a ValidationError for the first violation. */
export function validateInput(inputShape: string, input: unknown, overrides: MaxOverrides = {}): void {
  const walker = new Walker(overrides);
  walker.visit({ shape: inputShape }, input, '');
  const problem = walker.problem;
  if (problem) throw ValidationError.constraint({ ...problem, path: problem.path || '/' });
}

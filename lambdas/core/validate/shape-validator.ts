// One generic walk over the model's shapes: required members, types, lengths, ranges, patterns,
// enums and unions. Every problem is collected so one ValidationException lists them all.
import { FieldProblem, ValidationError } from '../errors';
import { MemberRef, Shape, shapes } from '../model';

const MAX_PROBLEMS = 20;
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

class Walker {
  readonly problems: FieldProblem[] = [];

  constructor(private readonly overrides: MaxOverrides) {}

  private shapeOf(ref: MemberRef): Shape {
    const shape = shapes[ref.shape];
    if (!shape) throw new Error(`model has no shape ${ref.shape}`);
    const max = this.overrides[ref.shape];
    return max === undefined ? shape : { ...shape, max };
  }

  add(path: string, message: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push({ path, message });
  }

  full(): boolean {
    return this.problems.length >= MAX_PROBLEMS;
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

  private typeMismatch(shape: Shape, value: unknown, path: string): void {
    this.add(path, `Member must be ${typeNames[shape.type] ?? shape.type}, got ${describeType(value)}`);
  }

  private structure(shape: Shape, value: unknown, path: string): void {
    if (!isPlainObject(value)) return this.typeMismatch(shape, value, path);
    for (const name of shape.required ?? []) {
      if (value[name] === undefined || value[name] === null) this.add(`${path}/${name}`, 'Member must not be null');
    }
    const members = shape.members ?? {};
    let present = 0;
    for (const [name, ref] of Object.entries(members)) {
      const member = value[name];
      if (member === undefined || member === null) continue;
      present++;
      this.visit(ref, member, `${path}/${name}`);
      if (this.full()) return;
    }
    if (shape.union && present !== 1) {
      this.add(path, `Member must have exactly one of ${Object.keys(members).join(', ')} set`);
    }
  }

  private list(shape: Shape, value: unknown, path: string): void {
    if (!Array.isArray(value)) return this.typeMismatch(shape, value, path);
    if (shape.min !== undefined && value.length < shape.min) {
      this.add(path, `Member must have length greater than or equal to ${shape.min}`);
    }
    if (shape.max !== undefined && value.length > shape.max) {
      this.add(path, `Member must have length less than or equal to ${shape.max}`);
    }
    const member = shape.member!;
    const memberShape = shapes[member.shape];
    if (memberShape.type === 'float') {
      // Vector data: the hot path (up to 500 × 4096 numbers), so no per-element path strings.
      for (let i = 0; i < value.length; i++) {
        if (typeof value[i] !== 'number') {
          this.typeMismatch(memberShape, value[i], `${path}/${i}`);
          if (this.full()) return;
        }
      }
      return;
    }
    for (let i = 0; i < value.length && !this.full(); i++) this.visit(member, value[i], `${path}/${i}`);
  }

  private map(shape: Shape, value: unknown, path: string): void {
    if (!isPlainObject(value)) return this.typeMismatch(shape, value, path);
    for (const [key, entry] of Object.entries(value)) {
      this.visit(shape.key!, key, `${path}/${key}`);
      this.visit(shape.value!, entry, `${path}/${key}`);
      if (this.full()) return;
    }
  }

  private string(shape: Shape, value: unknown, path: string): void {
    if (typeof value !== 'string') return this.typeMismatch(shape, value, path);
    if (shape.min !== undefined || shape.max !== undefined) {
      const length = [...value].length; // lengths count Unicode code points, as Smithy does
      if (shape.min !== undefined && length < shape.min) {
        this.add(path, `Member must have length greater than or equal to ${shape.min}`);
      }
      if (shape.max !== undefined && length > shape.max) {
        this.add(path, `Member must have length less than or equal to ${shape.max}`);
      }
    }
    if (shape.pattern !== undefined && !compiledPattern(shape.pattern).test(value)) {
      this.add(path, `Member must satisfy regular expression pattern: ${shape.pattern}`);
    }
    if (shape.enum !== undefined && !shape.enum.includes(value)) {
      this.add(path, `Member must satisfy enum value set: [${shape.enum.join(', ')}]`);
    }
  }

  private range(shape: Shape, value: number, path: string): void {
    if (shape.min !== undefined && value < shape.min) {
      this.add(path, `Member must have value greater than or equal to ${shape.min}`);
    }
    if (shape.max !== undefined && value > shape.max) {
      this.add(path, `Member must have value less than or equal to ${shape.max}`);
    }
  }
}

/** Validates an operation's input against its model shape; throws one ValidationError listing every problem. */
export function validateInput(inputShape: string, input: unknown, overrides: MaxOverrides = {}): void {
  const walker = new Walker(overrides);
  walker.visit({ shape: inputShape }, input, '');
  if (walker.problems.length) {
    throw ValidationError.fields(walker.problems.map((p) => ({ ...p, path: p.path || '/' })));
  }
}

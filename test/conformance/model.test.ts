// Reads the service model and checks, operation by operation, that the server routes it and enforces
// every constraint on its input members with a ValidationException whose fieldList names the member.
import { operations, shapes, type MemberRef, type Shape } from '../../lambdas/core/model';
import { rawCall } from '../helpers/raw';
import { startTestService, type TestService } from '../helpers/service';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(() => t.close());

const VALID_ARN = 'arn:aws:s3vectors:us-east-1:123456789012:bucket/conformance-bucket';

interface Violation {
  operation: string;
  path: string;
  why: string;
  body: Record<string, unknown>;
}

/** Samples for the patterned strings; every other shape gets a generated valid value. */
const PATTERN_SAMPLES: Record<string, string> = {
  VectorBucketArn: VALID_ARN,
  IndexArn: `${VALID_ARN}/index/conformance-index`,
  KmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/conformance-key',
  TagKey: 'k',
  TagValue: 'v',
};

/** A value of the shape that satisfies every constraint, so a body can break exactly one member. */
function validValue(shapeName: string): unknown {
  const shape = shapes[shapeName];
  if (shape.document) return {};
  switch (shape.type) {
    case 'structure': {
      const members = shape.members ?? {};
      const names = shape.union ? Object.keys(members).slice(0, 1) : (shape.required ?? []);
      return Object.fromEntries(names.filter((n) => !members[n].location).map((n) => [n, validValue(members[n].shape)]));
    }
    case 'list':
      return Array.from({ length: Math.max(shape.min ?? 0, 1) }, () => validValue(shape.member!.shape));
    case 'map':
      return {};
    case 'string': {
      if (shape.enum) return shape.enum[0];
      const value = PATTERN_SAMPLES[shapeName] ?? 'a'.repeat(Math.max(shape.min ?? 1, 3));
      if (shape.pattern && !new RegExp(`^(?:${shape.pattern})$`, 'u').test(value)) throw new Error(`no valid sample for ${shapeName}`);
      return value;
    }
    case 'integer':
    case 'long':
      return shape.min ?? 1;
    case 'boolean':
      return true;
    default:
      return 1;
  }
}

/** A value of `shape` that breaks one of its constraints, with a description; several per shape. */
function violations(shape: Shape): { value: unknown; why: string }[] {
  const out: { value: unknown; why: string }[] = [];
  switch (shape.type) {
    case 'string':
      out.push({ value: 12345, why: 'a number where a string belongs' });
      if (shape.min !== undefined && shape.min > 0) out.push({ value: 'a'.repeat(shape.min - 1), why: `shorter than ${shape.min}` });
      if (shape.max !== undefined) out.push({ value: 'a'.repeat(shape.max + 1), why: `longer than ${shape.max}` });
      if (shape.enum) out.push({ value: 'not-a-member', why: 'outside the enum' });
      if (shape.pattern) {
        const candidate = '#!?';
        if (!new RegExp(`^(?:${shape.pattern})$`, 'u').test(candidate)) out.push({ value: candidate, why: 'not matching the pattern' });
      }
      break;
    case 'integer':
    case 'long':
      out.push({ value: '7', why: 'a string where an integer belongs' });
      out.push({ value: 1.5, why: 'a fraction where an integer belongs' });
      if (shape.min !== undefined) out.push({ value: shape.min - 1, why: `below ${shape.min}` });
      if (shape.max !== undefined) out.push({ value: shape.max + 1, why: `above ${shape.max}` });
      break;
    case 'boolean':
      out.push({ value: 'true', why: 'a string where a boolean belongs' });
      break;
    case 'list': {
      out.push({ value: 'not-a-list', why: 'a string where a list belongs' });
      if (shape.min !== undefined && shape.min > 0) out.push({ value: [], why: `fewer than ${shape.min} items` });
      const item = validValue(shape.member!.shape);
      if (shape.max !== undefined) out.push({ value: Array.from({ length: shape.max + 1 }, () => item), why: `more than ${shape.max} items` });
      break;
    }
    case 'map':
      out.push({ value: ['not', 'a', 'map'], why: 'a list where a map belongs' });
      break;
    case 'structure':
      if (!shape.document) out.push({ value: 'not-a-structure', why: 'a string where a structure belongs' });
      break;
  }
  return out;
}

type Wrap = (value: unknown) => Record<string, unknown>;

function collect(): Violation[] {
  const found: Violation[] = [];
  for (const op of Object.values(operations)) {
    if (!op.input) continue;
    const input = shapes[op.input.shape];
    // `parent` is a valid value of the enclosing structure; `wrap` puts it back into a valid body.
    const visit = (members: Record<string, MemberRef>, parent: Record<string, unknown>, prefix: string, wrap: Wrap) => {
      for (const [name, ref] of Object.entries(members)) {
        if (ref.location) continue; // URI labels and query strings are exercised by the routing checks
        const shape = shapes[ref.shape];
        const put: Wrap = (value) => wrap({ ...parent, [name]: value });
        for (const v of violations(shape)) {
          found.push({ operation: op.name, path: `${prefix}/${name}`, why: v.why, body: put(v.value) });
        }
        if (shape.type === 'structure' && shape.members && !shape.document) {
          const value = validValue(ref.shape) as Record<string, unknown>;
          visit(shape.union ? pick(shape.members, value) : shape.members, value, `${prefix}/${name}`, put);
        }
        if (shape.type === 'list' && shapes[shape.member!.shape].type === 'structure') {
          const item = shapes[shape.member!.shape];
          visit(item.members!, validValue(shape.member!.shape) as Record<string, unknown>, `${prefix}/${name}/0`, (value) => put([value]));
        } else if (shape.type === 'list') {
          for (const v of violations(shapes[shape.member!.shape])) {
            found.push({ operation: op.name, path: `${prefix}/${name}/0`, why: `an item ${v.why}`, body: put([v.value]) });
          }
        }
      }
    };
    visit(input.members ?? {}, validValue(op.input.shape) as Record<string, unknown>, '', (value) => value as Record<string, unknown>);
  }
  return found;
}

/** A union's members that the valid value sets: breaking another one would set two. */
function pick(members: Record<string, MemberRef>, value: Record<string, unknown>): Record<string, MemberRef> {
  return Object.fromEntries(Object.entries(members).filter(([name]) => name in value));
}

function pathOf(operation: string): { path: string; method: string } {
  const op = operations[operation];
  return { method: op.http.method, path: op.http.requestUri.replace('{resourceArn}', encodeURIComponent(VALID_ARN)) };
}

describe('routing', () => {
  it.each(Object.keys(operations).sort())('%s is served at its modeled method and path', async (operation) => {
    const { method, path } = pathOf(operation);
    const response = await rawCall(t.url, path, method === 'POST' ? {} : undefined, {
      method,
      query: operation === 'UntagResource' ? { tagKeys: 'k' } : undefined,
    });
    expect(response.errorType).not.toBe('UnknownOperationException');
    expect(response.headers.get('x-amzn-requestid')).toBeTruthy();
    expect(response.status).toBeLessThan(500);
  });

  it('answers an unknown path with an error, not a crash', async () => {
    const response = await rawCall(t.url, '/NoSuchOperation', {});
    expect(response.status).toBe(404);
    expect(response.errorType).toBe('UnknownOperationException');
  });

  it('answers a body that is not JSON with SerializationException', async () => {
    const response = await rawCall(t.url, '/CreateVectorBucket', '{"vectorBucketName":');
    expect(response.status).toBe(400);
    expect(response.errorType).toBe('SerializationException');
  });
});

describe('every modeled constraint', () => {
  const cases = collect();
  it('covers the constrained members of every operation', () => {
    expect(new Set(cases.map((c) => c.operation)).size).toBeGreaterThanOrEqual(17);
    expect(cases.length).toBeGreaterThan(150);
  });

  it.each(cases.map((c) => [c.operation, c.path, c.why, c] as const))('%s %s: %s → ValidationException naming the field', async (operation, path, _why, c) => {
    const { method, path: uri } = pathOf(operation);
    const response = await rawCall(t.url, uri, c.body, { method: method === 'GET' ? 'POST' : method });
    if (method !== 'POST') return; // GET/DELETE tag operations take no body members beyond labels
    expect(response.status).toBe(400);
    expect(response.errorType).toBe('ValidationException');
    // AWS's framework reports the first violation only: one fieldList entry, the message repeating it
    // (recorded: moto tests/test_s3vectors, e.g. test_create_index_with_unknown_dimension).
    const fields = response.body.fieldList as { path: string; message: string }[];
    expect(fields.map((f) => f.path)).toEqual([path]);
    expect(fields[0].message).toMatch(new RegExp(`^Value (with length \\d+ )?at '${path}' failed to satisfy constraint: Member `));
    expect(response.body.message).toBe(`1 validation error detected. ${fields[0].message}`);
  });
});

describe('URI and query members', () => {
  it('rejects a resourceArn longer than 1011 characters', async () => {
    const long = `${VALID_ARN}${'x'.repeat(1011)}`;
    const response = await rawCall(t.url, `/tags/${encodeURIComponent(long)}`, undefined, { method: 'GET' });
    expect(response.status).toBe(400);
    expect((response.body.fieldList as { path: string }[]).map((f) => f.path)).toContain('/resourceArn');
  });

  it('requires tagKeys on UntagResource', async () => {
    const response = await rawCall(t.url, `/tags/${encodeURIComponent(VALID_ARN)}`, undefined, { method: 'DELETE' });
    expect(response.status).toBe(400);
    expect((response.body.fieldList as { path: string }[]).map((f) => f.path)).toContain('/tagKeys');
  });
});

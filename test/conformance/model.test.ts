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
    case 'list':
      out.push({ value: 'not-a-list', why: 'a string where a list belongs' });
      if (shape.min !== undefined && shape.min > 0) out.push({ value: [], why: `fewer than ${shape.min} items` });
      if (shape.max !== undefined) out.push({ value: Array.from({ length: shape.max + 1 }, (_, i) => `item-${i}`), why: `more than ${shape.max} items` });
      break;
    case 'map':
      out.push({ value: ['not', 'a', 'map'], why: 'a list where a map belongs' });
      break;
    case 'structure':
      if (!shape.document) out.push({ value: 'not-a-structure', why: 'a string where a structure belongs' });
      break;
  }
  return out;
}

function collect(): Violation[] {
  const found: Violation[] = [];
  for (const op of Object.values(operations)) {
    if (!op.input) continue;
    const input = shapes[op.input.shape];
    const visit = (members: Record<string, MemberRef>, prefix: string, wrap: (value: Record<string, unknown>) => Record<string, unknown>) => {
      for (const [name, ref] of Object.entries(members)) {
        if (ref.location) continue; // URI labels and query strings are exercised by the routing checks
        const shape = shapes[ref.shape];
        for (const v of violations(shape)) {
          found.push({ operation: op.name, path: `${prefix}/${name}`, why: v.why, body: wrap({ [name]: v.value }) });
        }
        if (shape.type === 'structure' && shape.members && !shape.document) {
          visit(shape.members, `${prefix}/${name}`, (value) => wrap({ [name]: value }));
        }
        if (shape.type === 'list' && shapes[shape.member!.shape].type === 'structure') {
          const item = shapes[shape.member!.shape];
          visit(item.members!, `${prefix}/${name}/0`, (value) => wrap({ [name]: [value] }));
        } else if (shape.type === 'list') {
          for (const v of violations(shapes[shape.member!.shape])) {
            found.push({ operation: op.name, path: `${prefix}/${name}/0`, why: `an item ${v.why}`, body: wrap({ [name]: [v.value] }) });
          }
        }
      }
    };
    visit(input.members ?? {}, '', (value) => value);
  }
  return found;
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
    const fields = (response.body.fieldList as { path: string; message: string }[]).map((f) => f.path);
    expect(fields).toContain(path);
    expect(String(response.body.message)).toContain(path);
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

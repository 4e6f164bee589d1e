import fc from 'fast-check';
import { parseFilter, MAX_FILTER_CONSTRAINTS, MAX_FILTER_DEPTH } from '../../lambdas/core/filter/parse';
import { AWS_LIMITS } from '../../lambdas/core/config';
import { ValidationError } from '../../lambdas/core/errors';
import type { IndexMode } from '../../lambdas/core/ports';

const enhanced = { nonFilterableKeys: new Set(['body']), indexMode: 'ENHANCED' as IndexMode, limits: AWS_LIMITS };
const classic = { ...enhanced, indexMode: 'CLASSIC' as IndexMode };

function rejects(doc: unknown, pattern: RegExp, ctx = enhanced): ValidationError {
  let caught: unknown;
  try {
    parseFilter(doc, ctx);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ValidationError);
  const err = caught as ValidationError;
  expect(err.status).toBe(400);
  expect(err.fieldList[0].path).toBe('/filter');
  expect(err.message).toMatch(pattern);
  return err;
}

describe('parseFilter: the language', () => {
  it('treats a bare value as $eq', () => {
    expect(parseFilter({ genre: 'drama' }, enhanced)).toEqual({ op: 'eq', key: 'genre', value: 'drama' });
    expect(parseFilter({ year: 2020 }, enhanced)).toEqual({ op: 'eq', key: 'year', value: 2020 });
    expect(parseFilter({ ok: false }, enhanced)).toEqual({ op: 'eq', key: 'ok', value: false });
  });

  it('parses every comparison operator', () => {
    const f = (op: string, v: unknown) => parseFilter({ k: { [op]: v } }, enhanced);
    expect(f('$eq', 'a')).toEqual({ op: 'eq', key: 'k', value: 'a' });
    expect(f('$ne', 1)).toEqual({ op: 'ne', key: 'k', value: 1 });
    expect(f('$gt', 1)).toEqual({ op: 'gt', key: 'k', value: 1 });
    expect(f('$gte', 1.5)).toEqual({ op: 'gte', key: 'k', value: 1.5 });
    expect(f('$lt', -1)).toEqual({ op: 'lt', key: 'k', value: -1 });
    expect(f('$lte', 0)).toEqual({ op: 'lte', key: 'k', value: 0 });
    expect(f('$in', ['a', 1, true])).toEqual({ op: 'in', key: 'k', values: ['a', 1, true] });
    expect(f('$nin', ['a'])).toEqual({ op: 'nin', key: 'k', values: ['a'] });
    expect(f('$exists', false)).toEqual({ op: 'exists', key: 'k', exists: false });
    expect(f('$startsWith', '/marketing/')).toEqual({ op: 'startsWith', key: 'k', prefix: '/marketing/' });
  });

  it('ANDs several keys in one object and several operators on one key', () => {
    expect(parseFilter({ genre: 'drama', year: { $gte: 2020, $lte: 2024 } }, enhanced)).toEqual({
      op: 'and',
      children: [
        { op: 'eq', key: 'genre', value: 'drama' },
        { op: 'gte', key: 'year', value: 2020 },
        { op: 'lte', key: 'year', value: 2024 },
      ],
    });
  });

  it('parses nested $and / $or', () => {
    expect(parseFilter({ $or: [{ a: 1 }, { $and: [{ b: 'x' }, { c: { $exists: true } }] }] }, enhanced)).toEqual({
      op: 'or',
      children: [
        { op: 'eq', key: 'a', value: 1 },
        { op: 'and', children: [{ op: 'eq', key: 'b', value: 'x' }, { op: 'exists', key: 'c', exists: true }] },
      ],
    });
  });

  it('keeps odd key names as data', () => {
    expect(parseFilter({ "it's": { $eq: 'a"b\\c' } }, enhanced)).toEqual({ op: 'eq', key: "it's", value: 'a"b\\c' });
  });
});

describe('parseFilter: malformed filters are ValidationExceptions', () => {
  it.each([
    [null, /must be an object, got null/],
    ['genre', /must be an object, got a string/],
    [[{ a: 1 }], /must be an object, got an array/],
    [{}, /must not be an empty object/],
    [{ a: { $regex: 'x' } }, /Unknown operator \$regex/],
    [{ $not: { a: 1 } }, /Unknown operator \$not/],
    [{ $eq: 1 }, /must be applied to a metadata key/],
    [{ a: { $in: 'x' } }, /\$in .* takes a non-empty array/],
    [{ a: { $in: [] } }, /\$in .* non-empty array.*\(empty\)/],
    [{ a: { $nin: [{}] } }, /\$nin at filter\.a\.\$nin\[0\] must be a string, number or boolean/],
    [{ a: { $in: [['x']] } }, /must be a string, number or boolean, got an array/],
    [{ $and: [] }, /\$and .* non-empty array/],
    [{ $or: {} }, /\$or .* non-empty array of filters, got an object/],
    [{ $and: [1] }, /filter\.\$and\[0\] must be an object/],
    [{ a: { $gt: '5' } }, /\$gt .* takes a number, got a string/],
    [{ a: { $lte: true } }, /\$lte .* takes a number/],
    [{ a: { $eq: [1] } }, /\$eq .* takes a string, number or boolean, got an array/],
    [{ a: { $ne: null } }, /\$ne .* got null/],
    [{ a: { $exists: 'yes' } }, /\$exists .* takes a boolean/],
    [{ a: { $startsWith: 5 } }, /\$startsWith .* takes a string/],
    [{ a: [1, 2] }, /must be a string, number, boolean or an operator object, got an array/],
    [{ a: null }, /got null/],
    [{ a: {} }, /must not be empty/],
    [{ a: { $and: [{ b: 1 }] } }, /must be at the top of a filter object/],
  ])('%j', (doc, pattern) => {
    rejects(doc, pattern);
  });

  it('rejects a filter on a non-filterable key, even nested', () => {
    rejects({ body: 'x' }, /'body' is non-filterable/);
    rejects({ $or: [{ a: 1 }, { body: { $exists: true } }] }, /'body' is non-filterable/);
  });

  it('allows $startsWith only with ENHANCED behavior', () => {
    rejects({ p: { $startsWith: '/a' } }, /requires ENHANCED/, classic);
    expect(parseFilter({ p: { $startsWith: '/a' } }, enhanced)).toEqual({ op: 'startsWith', key: 'p', prefix: '/a' });
  });

  it('caps constraints at 100 on ENHANCED, counting each value', () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`);
    expect(() => parseFilter({ r: { $in: values(MAX_FILTER_CONSTRAINTS) } }, enhanced)).not.toThrow();
    const err = rejects({ r: { $in: values(MAX_FILTER_CONSTRAINTS) }, s: 'x' }, /101 filter constraints.*limit of 100 by 1/);
    expect(err.message).toContain('constraints');
    // AWS: "This limit only applies to ENHANCED indexes."
    expect(() => parseFilter({ r: { $in: values(500) } }, classic)).not.toThrow();
    const ands = { $and: Array.from({ length: 101 }, (_, i) => ({ [`k${i}`]: i })) };
    rejects(ands, /101 filter constraints/);
  });

  it('limits nesting depth without overflowing the stack', () => {
    let ok: unknown = { a: 1 };
    for (let i = 1; i < MAX_FILTER_DEPTH; i++) ok = { $and: [ok] };
    expect(() => parseFilter(ok, enhanced)).not.toThrow();
    rejects({ $and: [ok] }, /nested deeper than/);
    let deep: unknown = { a: 1 };
    for (let i = 0; i < 100_000; i++) deep = { $or: [deep] };
    rejects(deep, /nested deeper than/);
  });

  it('enforces the filter size limit and says by how much', () => {
    const limits = { ...AWS_LIMITS, maxFilterBytes: 100 };
    rejects({ a: 'x'.repeat(200) }, /Filter is 208 bytes, over the limit of 100 bytes by 108/, { ...enhanced, limits });
    expect(() => parseFilter({ a: 'x'.repeat(80) }, { ...enhanced, limits })).not.toThrow();
  });

  it('never crashes: any JSON input yields a FilterNode or a ValidationError', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom<IndexMode>('CLASSIC', 'ENHANCED'), (doc, indexMode) => {
        try {
          parseFilter(doc, { ...enhanced, indexMode });
        } catch (e) {
          if (!(e instanceof ValidationError)) throw e;
        }
      }),
      { seed: 20260301, numRuns: 2000 },
    );
    // Filter-shaped noise: operators and keys in the right places with arbitrary operands.
    const name = fc.constantFrom('$eq', '$ne', '$gt', '$in', '$nin', '$exists', '$startsWith', '$and', '$or', '$x', 'a', 'body');
    const shaped = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.jsonValue({ maxDepth: 1 }),
        fc.array(tie('v'), { maxLength: 3 }),
        fc.dictionary(name, tie('v'), { maxKeys: 3 }),
      ),
    })).v;
    fc.assert(
      fc.property(shaped, fc.constantFrom<IndexMode>('CLASSIC', 'ENHANCED'), (doc, indexMode) => {
        try {
          parseFilter(doc, { ...enhanced, indexMode });
        } catch (e) {
          if (!(e instanceof ValidationError)) throw e;
        }
      }),
      { seed: 20260302, numRuns: 3000 },
    );
  });
});

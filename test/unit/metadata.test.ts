import fc from 'fast-check';
import { checkMetadata } from '../../lambdas/core/metadata';
import { AWS_LIMITS } from '../../lambdas/core/config';
import { ValidationError } from '../../lambdas/core/errors';

const ctx = { nonFilterableKeys: new Set(['text']), limits: AWS_LIMITS };
const PATH = '/vectors/0/metadata';

function rejects(doc: unknown, pattern: RegExp, c = ctx): ValidationError {
  let caught: unknown;
  try {
    checkMetadata(doc, PATH, c);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ValidationError);
  const err = caught as ValidationError;
  expect(err.message).toMatch(pattern);
  return err;
}

describe('checkMetadata', () => {
  it('accepts strings, numbers, booleans and lists of them, returning the same object', () => {
    const doc = { genre: 'drama', year: 2020, score: -1.5, ok: true, tags: ['a', 1, false], empty: [], text: 'long' };
    expect(checkMetadata(doc, PATH, ctx)).toBe(doc);
    expect(checkMetadata({}, PATH, ctx)).toEqual({});
  });

  it.each([
    [null, /must be a JSON object, got null/],
    ['x', /must be a JSON object, got a string/],
    [[1], /must be a JSON object, got an array/],
    [5, /must be a JSON object, got a number/],
  ])('rejects non-object %j', (doc, pattern) => {
    const err = rejects(doc, pattern);
    expect(err.fieldList[0].path).toBe(PATH);
  });

  it.each([
    [{ a: null }, /got null/, `${PATH}/a`],
    [{ a: { b: 1 } }, /got an object/, `${PATH}/a`],
    [{ 'x/y~': [1, [2]] }, /list elements .* got an array at index 1/, `${PATH}/x~1y~0`],
    [{ a: [null] }, /got null at index 0/, `${PATH}/a`],
  ])('rejects unsupported value %j', (doc, pattern, path) => {
    const err = rejects(doc, pattern);
    expect(err.fieldList[0].path).toBe(path);
  });

  it('uses dotted child paths when the caller does', () => {
    const err = rejects({ a: null }, /got null/);
    expect(err.fieldList[0].path).toBe(`${PATH}/a`);
    try {
      checkMetadata({ a: null }, 'metadata', ctx);
    } catch (e) {
      expect((e as ValidationError).fieldList[0].path).toBe('metadata.a');
    }
  });

  it('limits the number of keys', () => {
    const doc = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
    rejects(doc, /^Metadata object must have at most 50 keys$/); // AWS's words (llama_index issue 19522)
    delete doc.k50;
    expect(() => checkMetadata(doc, PATH, ctx)).not.toThrow();
  });

  it('limits filterable size to 2 KB as UTF-8 bytes of the JSON text, excluding non-filterable keys', () => {
    // {"a":"…"} is 8 bytes of JSON plus the string.
    expect(() => checkMetadata({ a: 'x'.repeat(2048 - 8) }, PATH, ctx)).not.toThrow();
    // AWS's words (langchain-aws issue 693).
    rejects({ a: 'x'.repeat(2048 - 7) }, /^Filterable metadata must have at most 2048 bytes$/);
    // Multi-byte characters count as their UTF-8 size: é is 2 bytes.
    expect(() => checkMetadata({ a: 'é'.repeat(1020) }, PATH, ctx)).not.toThrow();
    rejects({ a: 'é'.repeat(1021) }, /Filterable metadata must have at most 2048 bytes/);
    // A large non-filterable value does not count against the filterable limit.
    expect(() => checkMetadata({ a: 'x'.repeat(1000), text: 'y'.repeat(30_000) }, PATH, ctx)).not.toThrow();
  });

  it('limits total size to 40 KB including non-filterable keys', () => {
    const overhead = JSON.stringify({ text: '' }).length;
    expect(() => checkMetadata({ text: 'y'.repeat(40 * 1024 - overhead) }, PATH, ctx)).not.toThrow();
    rejects({ text: 'y'.repeat(40 * 1024 - overhead + 5) }, /Metadata is 40965 bytes, over the limit of 40960 bytes of total metadata per vector by 5/);
  });

  it('measures a key named __proto__ like any other', () => {
    const doc = JSON.parse(`{"__proto__": "${'x'.repeat(3000)}", "text": "t"}`);
    rejects(doc, /Filterable metadata must have at most 2048 bytes/);
  });

  it('never crashes: any JSON input is accepted or rejected with a ValidationError', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (doc) => {
        try {
          checkMetadata(doc, PATH, ctx);
        } catch (e) {
          if (!(e instanceof ValidationError)) throw e;
        }
      }),
      { seed: 777, numRuns: 1000 },
    );
  });
});

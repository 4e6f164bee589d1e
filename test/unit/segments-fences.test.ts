// ListVectors range fences (lambdas/adapters/lance/segments.ts): every n-th key and the last, in
// UTF-8 order, and fewer, wider ranges when the fences would not fit one catalog item.
import fc from 'fast-check';
import { fencesOf, keyRangePredicate, sortByUtf8 } from '../../lambdas/adapters/lance/segments';
import { compareCodePoints } from '../../lambdas/core/pagination/key-order';

it('picks every n-th key and the last', () => {
  const keys = Array.from({ length: 1001 }, (_, i) => `k${String(i).padStart(4, '0')}`);
  expect(fencesOf(keys, 100)).toEqual([...Array.from({ length: 10 }, (_, i) => keys[i * 100 + 99]), keys[1000]]);
  expect(fencesOf(keys.slice(0, 100), 100)).toEqual([keys[99]]);
  expect(fencesOf([], 100)).toEqual([]);
});

it('widens the ranges when the fences would exceed one catalog item', () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `${'x'.repeat(1000)}${String(i).padStart(5, '0')}`);
  const fences = fencesOf(keys, 10);
  expect(fences.reduce((n, f) => n + Buffer.byteLength(f) + 4, 0)).toBeLessThanOrEqual(256_000 + 2000);
  expect(fences[fences.length - 1]).toBe(keys[keys.length - 1]);
  expect(fences.length).toBeGreaterThan(10);
});

it('sorts by UTF-8 bytes, as the SQL comparison does', () => {
  expect(sortByUtf8(['\u{1F600}', '\uFF5E', 'é', 'z'])).toEqual(['z', 'é', '\uFF5E', '\u{1F600}']);
  expect(keyRangePredicate("a'b", 'c')).toBe("key > 'a''b' AND key <= 'c'");
  expect(keyRangePredicate(undefined, undefined)).toBeUndefined();
});

it('orders keys as UTF-8 bytes, with or without characters past U+FFFF', () => {
  const unit = fc.constantFrom('a', 'z', 'é', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uff5e', '\uffff', '\u{10000}', '\u{1F600}', '\u{10FFFF}');
  const key = fc.array(unit, { minLength: 0, maxLength: 6 }).map((parts) => parts.join(''));
  fc.assert(
    fc.property(fc.array(key, { maxLength: 30 }), (keys) => {
      const expected = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      expect(sortByUtf8([...keys])).toEqual(expected);
      for (const a of keys.slice(0, 5)) for (const b of keys.slice(0, 5)) expect(Math.sign(compareCodePoints(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
    }),
    { numRuns: 300 },
  );
});

// The hand-built Utf8 / List<Utf8> columns equal apache-arrow's own builders, byte for byte in
// meaning: ASCII, multi-byte, astral, empty, null and lone-surrogate strings.
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { utf8Data, utf8ListData } from '../../lambdas/adapters/lance/utf8-columns';

const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.constant(''), fc.constant('\ud800x'));

test('Utf8 columns read back as apache-arrow builds them', () => {
  fc.assert(
    fc.property(fc.array(fc.option(text, { nil: null }), { maxLength: 40 }), (values) => {
      const ours = arrow.makeVector(utf8Data(values));
      const theirs = arrow.vectorFromArray(values, new arrow.Utf8());
      expect(ours.nullCount).toBe(theirs.nullCount);
      expect(ours.toArray()).toEqual(theirs.toArray());
    }),
  );
});

test('List<Utf8> columns read back as apache-arrow builds them', () => {
  const type = new arrow.List(new arrow.Field('item', new arrow.Utf8(), true));
  fc.assert(
    fc.property(fc.array(fc.array(text, { maxLength: 6 }), { maxLength: 30 }), (lists) => {
      const read = (v: arrow.Vector) => Array.from({ length: v.length }, (_, i) => Array.from((v.get(i) as arrow.Vector<arrow.Utf8>).toArray()));
      expect(read(arrow.makeVector(utf8ListData(lists, type)))).toEqual(read(arrow.vectorFromArray(lists, type)));
    }),
  );
});

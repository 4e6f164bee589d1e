// dynalite 4.0.0 ends its LevelDB streams with `if (iterator.return) iterator.return()`, but
// abstract-level iterators have close(), not return(): every Query and Scan left its iterator open,
// attached to the database until it closes, pinning LevelDB blocks and versions. The local server
// grew ~10 MB per 1,000 catalog queries (bench/mem-dynalite.ts). Giving the iterators a return()
// that closes them lets dynalite's own clean-up run. Imported before dynalite is loaded.
import { createRequire } from 'node:module';
import type * as AbstractLevel from 'abstract-level';

// The copy of abstract-level that dynalite's classic-level uses (a nested install may hold another).
const fromLevel = createRequire(createRequire(require.resolve('dynalite')).resolve('level'));
const fromClassicLevel = createRequire(fromLevel.resolve('classic-level'));
const { AbstractIterator, AbstractKeyIterator, AbstractValueIterator } = fromClassicLevel('abstract-level') as typeof AbstractLevel;

for (const Iterator of [AbstractIterator, AbstractKeyIterator, AbstractValueIterator]) {
  const proto = Iterator.prototype as { return?: () => Promise<{ done: true; value: undefined }>; close(): Promise<void> };
  if (typeof proto.return !== 'function') {
    proto.return = async function (this: { close(): Promise<void> }) {
      await this.close();
      return { done: true, value: undefined };
    };
  }
}

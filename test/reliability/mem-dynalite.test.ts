// The local catalog (dynalite on LevelDB) under churn: every Query used to leave its LevelDB
// iterator open (dynalite calls iterator.return(), which abstract-level iterators lacked), so the
// server grew with every catalog query (lambdas/local/mem-dynalite-iterators.ts). Runs
// bench/mem-dynalite.ts (PutItem → Query Limit 1 → DeleteItem) in its own process with a GC before
// each sample and compares the second stretch with the first.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

jest.setTimeout(120_000);

it('keeps the catalog process flat while items are written, queried and deleted', () => {
  const root = join(__dirname, '..', '..');
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(root, 'bench', 'mem-dynalite.ts'), '6000', '2000'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const rows = new Map(
    out
      .split('\n')
      .filter((l) => /^\d+\t/.test(l))
      .map((l) => l.split('\t').map(Number))
      .map(([cycles, rss, heap]) => [cycles, { rss, heap }] as const),
  );
  const [first, last] = [rows.get(2000)!, rows.get(6000)!];
  console.log(`after 2,000 cycles RSS ${first.rss} MB heap ${first.heap} MB; after 6,000 RSS ${last.rss} MB heap ${last.heap} MB`);
  // Unfixed: +4 MB of heap after GC (the open iterators) and +33 to +59 MB RSS over these 4,000
  // queries; fixed: heap +0. RSS alone swings by ±25 MB on this machine, so its bound is loose.
  expect(last.heap - first.heap).toBeLessThan(2);
  expect(last.rss - first.rss).toBeLessThan(45);
});

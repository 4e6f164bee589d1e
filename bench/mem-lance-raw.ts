// Raw LanceDB churn, no server: create table → add → query → close → drop, repeated, printing RSS.
//   npx tsx bench/mem-lance-raw.ts [cycles] [every]   (add --expose-gc through NODE_OPTIONS to gc each sample)
// RAW_CACHE_MB=<n> bounds both LanceDB caches to n MiB (the session goes in the options: a third
// argument to connect is ignored); without it Lance's defaults (6 GiB + 1 GiB) apply.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { Field, FixedSizeList, Float32, Schema, Utf8 } from 'apache-arrow';

async function main(): Promise<void> {
  const cycles = Number(process.argv[2] ?? 2000);
  const every = Number(process.argv[3] ?? 200);
  const reuse = process.env.RAW_REUSE_CONN !== '0';
  const dir = mkdtempSync(join(tmpdir(), 's3v-mem-raw-'));
  const dim = 32;
  const schema = new Schema([new Field('key', new Utf8(), false), new Field('vector', new FixedSizeList(dim, new Field('item', new Float32(), true)), false)]);
  const cacheMb = process.env.RAW_CACHE_MB ? BigInt(Number(process.env.RAW_CACHE_MB) * 1048576) : undefined;
  const open = () => lancedb.connect(dir, cacheMb ? { session: new lancedb.Session(cacheMb, cacheMb) } : {});
  let db = await open();
  const mb = () => Math.round(process.memoryUsage().rss / 1048576);
  const gc = (globalThis as { gc?: () => void }).gc;
  console.log('cycles\trssMB\theapMB');
  console.log(`0\t${mb()}\t-`);
  const started = Date.now();
  for (let c = 1; c <= cycles; c++) {
    if (!reuse) db = await open();
    const name = `t${c}`;
    const table = await db.createEmptyTable(name, schema);
    await table.add(Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, vector: Array.from({ length: dim }, (_, d) => Math.sin(c + i + d)) })));
    if (process.env.RAW_QUERY !== '0') await table.vectorSearch(Array.from({ length: dim }, () => 0.5)).limit(5).toArray();
    table.close();
    await db.dropTable(name);
    if (!reuse) db.close();
    if (c % every === 0) {
      gc?.();
      console.log(`${c}\t${mb()}\t${Math.round(process.memoryUsage().heapUsed / 1048576)}\t${Math.round((Date.now() - started) / 1000)}s`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

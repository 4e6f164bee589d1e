// A maintenance run killed (SIGKILL) in the middle of building the ANN index leaves the index as it
// was: same rows, queryable, and the next run completes.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { vectorIndexOf } from '../../lambdas/adapters/lance/index-stats';
import { DEFAULT_MAINTENANCE_CONFIG } from '../../lambdas/maintenance/config';
import { runMaintenanceOnce } from '../../lambdas/maintenance/maintenance';
import { indexRecord, memoryCatalog, putAll, rowVector, rows } from './helpers';

const DIM = 64;

test('killed mid-build: the index stays intact and queryable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 's3v-kill-'));
  const index = indexRecord('killed', DIM);
  const data = rows('r', 0, 30_000, DIM, 5);
  const seeded = new LanceVectorStore({ uri: dir });
  await putAll(seeded, index, data, 5000);
  const before = (await seeded.tableStats(index))!;
  await seeded.close();

  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'maintain-child.ts'), dir, JSON.stringify(index)], {
    cwd: join(__dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('vector-index-start')) resolve();
    });
    child.on('exit', () => reject(new Error(`child exited before building: ${output}`)));
  });
  await new Promise((r) => setTimeout(r, 400));
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  expect(output).not.toContain('done');

  const store = new LanceVectorStore({ uri: dir });
  try {
    const after = (await store.tableStats(index))!;
    expect(after.rows).toBe(before.rows);
    expect(vectorIndexOf(after)).toBeUndefined();
    const [top] = await store.query(index, { vector: rowVector(data, 123, DIM), topK: 1, metadata: false });
    expect(top).toEqual({ key: data.keys[123], distance: 0 });
    expect((await store.get(index, [data.keys[7]], { data: false, metadata: true }))[0]).toEqual({ key: data.keys[7], metadata: data.metadata[7] });

    const report = await runMaintenanceOnce({ catalog: memoryCatalog([index]) as never, store }, { config: { ...DEFAULT_MAINTENANCE_CONFIG, annMinRows: 1000 }, catchUp: true });
    expect(report.indexes[0].outcome).toBe('ok');
    expect(vectorIndexOf((await store.tableStats(index))!)).toMatchObject({ indexedRows: 30_000, unindexedRows: 0 });
    const [again] = await store.query(index, { vector: rowVector(data, 123, DIM), topK: 1, metadata: false });
    expect(again).toEqual({ key: data.keys[123], distance: 0 });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

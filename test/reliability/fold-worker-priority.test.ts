// Every thread of the maintenance worker runs below the server: nice 19 and, where util-linux's
// chrt exists, SCHED_IDLE. Before, only the worker's main thread got nice 19 (Linux's setpriority
// is per thread), while LanceDB's tokio threads, which run the index builds, stayed at nice 0 and
// took CPU from the server's writes as equals (measured with top -H during a build).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';
import { MaintenanceWorker } from '../../lambdas/maintenance/worker-client';
import { indexRecord, putAll, rows } from '../maintenance/helpers';

const SCHED_IDLE = 5;

function hasChrt(): boolean {
  try {
    execFileSync('chrt', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Per thread of `pid`: name, nice and scheduling policy (/proc/<pid>/task/<tid>/stat fields 2, 19, 41). */
function threads(pid: number): { tid: number; name: string; nice: number; policy: number }[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
    const file = `/proc/${pid}/task/${tid}/stat`;
    if (!existsSync(file)) return [];
    const stat = readFileSync(file, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [{ tid: Number(tid), name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), nice: Number(fields[16]), policy: Number(fields[38]) }];
  });
}

const linux = process.platform === 'linux' ? test : test.skip;

linux('every thread of the maintenance worker, LanceDB threads included, runs at the lowest priority', async () => {
  const dir = mkdtempSync(join(tmpdir(), 's3v-worker-prio-'));
  const store = new LanceVectorStore({ uri: dir });
  const worker = new MaintenanceWorker(store.storage);
  try {
    const index = indexRecord('prio', 8);
    await putAll(store, index, rows('k', 0, 2000, 8, 1));
    // An optimize and a build, so LanceDB has started its thread pools in the worker.
    await worker.run({ op: 'optimize', index, pruneOlderThan: 0 });
    await worker.run({ op: 'scalar-index', index, column: 'key', kind: 'BTREE' });
    const all = threads(worker.pid!);
    const lance = all.filter((t) => /tokio|lance/.test(t.name));
    expect(lance.length).toBeGreaterThan(0);
    expect(all.filter((t) => t.nice !== 19)).toEqual([]);
    if (hasChrt()) expect(all.filter((t) => t.policy !== SCHED_IDLE)).toEqual([]);
  } finally {
    await worker.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

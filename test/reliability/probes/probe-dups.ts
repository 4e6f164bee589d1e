// Probe: duplicate keys / lost writes / resurrected deletes under concurrent PutVectors and
// DeleteVectors while the maintenance worker compacts and builds (small thresholds).
// Usage: npx tsx test/reliability/probes/probe-dups.ts [seconds]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateIndexCommand, CreateVectorBucketCommand, DeleteVectorsCommand, PutVectorsCommand } from '@aws-sdk/client-s3vectors';
import { client, dups, getAll, listAll, queryAll, startServer } from './server';

const SECONDS = Number(process.argv[2] ?? 60);
const DIM = 8;
const CLIENTS = 4;
const OWN = 400;
const B = 'probe';
const I = 'idx';
const val = (a: number, b: number, c: number) => [a, b, c, 1, 2, 3, (a * 7 + b) % 13, c % 5];

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'review-dups-'));
  const server = await startServer(dir, {
    S3V_MAINT_INTERVAL_SECONDS: '1',
    S3V_MAINT_ANN_MIN_ROWS: '600',
    S3V_MAINT_KEY_INDEX_MIN_ROWS: '300',
    S3V_MAINT_COMPACT_MIN_FRAGMENTS: '4',
    S3V_MAINT_FOLD_MIN_ROWS: '50',
    S3V_MAINT_FOLD_MAX_AGE_SECONDS: '1',
    S3V_MAINT_KEEP_VERSIONS_SECONDS: '2',
    S3V_MAINT_RETRAIN_GROWTH: '1.2',
  });
  const c0 = client(server.url);
  await c0.send(new CreateVectorBucketCommand({ vectorBucketName: B }));
  await c0.send(new CreateIndexCommand({ vectorBucketName: B, indexName: I, dataType: 'float32', dimension: DIM, distanceMetric: 'euclidean' }));
  // Own keys: each client's, tracked exactly.
  const expected = new Map<string, number[] | null>();
  for (let c = 0; c < CLIENTS; c++) {
    const vectors = Array.from({ length: OWN }, (_, i) => ({ key: `own-${c}-${i}`, data: { float32: val(c, i, 0) } }));
    for (let s = 0; s < vectors.length; s += 100) await c0.send(new PutVectorsCommand({ vectorBucketName: B, indexName: I, vectors: vectors.slice(s, s + 100) }));
    vectors.forEach((v) => expected.set(v.key, v.data.float32));
  }
  // Stable keys: present the whole time, never written again: every listing must name each once.
  const stable = Array.from({ length: 500 }, (_, i) => `stable-${i}`);
  for (let s = 0; s < stable.length; s += 100)
    await c0.send(new PutVectorsCommand({ vectorBucketName: B, indexName: I, vectors: stable.slice(s, s + 100).map((k, i) => ({ key: k, data: { float32: val(9, s + i, 9) } })) }));
  const sharedKept = new Set<string>();
  const sharedDeleted = new Set<string>();
  const errors: string[] = [];
  const checks: string[] = [];
  const lat: number[] = [];
  const end = Date.now() + SECONDS * 1000;
  let round = 0;
  const clients = Array.from({ length: CLIENTS }, () => client(server.url));

  const own = async (c: number) => {
    let v = 1;
    while (Date.now() < end) {
      const idx = Array.from({ length: 20 }, () => Math.floor(Math.random() * OWN));
      const keys = [...new Set(idx)].map((i) => `own-${c}-${i}`);
      const t = Date.now();
      try {
        if (Math.random() < 0.3) {
          await clients[c].send(new DeleteVectorsCommand({ vectorBucketName: B, indexName: I, keys }));
          keys.forEach((k) => expected.set(k, null));
        } else {
          const vs = keys.map((k) => ({ key: k, data: { float32: val(c, Number(k.split('-')[2]), v) } }));
          await clients[c].send(new PutVectorsCommand({ vectorBucketName: B, indexName: I, vectors: vs }));
          vs.forEach((x) => expected.set(x.key, x.data.float32));
          v++;
        }
        lat.push(Date.now() - t);
      } catch (e) {
        // Unknown outcome: mark as indeterminate.
        errors.push(`own ${c}: ${(e as Error).name} ${(e as Error).message}`);
        keys.forEach((k) => expected.set(k, undefined as never));
      }
    }
  };
  const shared = async () => {
    while (Date.now() < end) {
      const r = round++;
      const keys = Array.from({ length: 20 }, (_, i) => `shared-${r}-${i}`);
      const res = await Promise.allSettled(
        clients.map((cl, c) => cl.send(new PutVectorsCommand({ vectorBucketName: B, indexName: I, vectors: keys.map((k, i) => ({ key: k, data: { float32: val(100 + c, i, r) } })) }))),
      );
      res.forEach((x) => x.status === 'rejected' && errors.push(`shared put: ${(x.reason as Error).name} ${(x.reason as Error).message}`));
      // Delete half after every put was acknowledged: they must never come back.
      const del = keys.slice(0, 10);
      try {
        await clients[0].send(new DeleteVectorsCommand({ vectorBucketName: B, indexName: I, keys: del }));
        del.forEach((k) => sharedDeleted.add(k));
      } catch (e) {
        errors.push(`shared delete: ${(e as Error).message}`);
      }
      keys.slice(10).forEach((k) => sharedKept.add(k));
    }
  };
  const checker = async () => {
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 3000));
      try {
        // Only deletes acknowledged before the listing started count.
        const deletedBefore = new Set(sharedDeleted);
        const listed = await listAll(c0, B, I, 3, 300);
        const d = dups(listed);
        const back = listed.filter((k) => deletedBefore.has(k));
        const counts = new Map<string, number>();
        for (const k of listed) counts.set(k, (counts.get(k) ?? 0) + 1);
        const badStable = stable.filter((k) => counts.get(k) !== 1);
        if (badStable.length) errors.push(`STABLE keys not listed exactly once: ${badStable.length} e.g. ${badStable[0]}=${counts.get(badStable[0]) ?? 0}`);
        checks.push(`stableOk=${!badStable.length} t=${Math.round((end - Date.now()) / 1000)} listed=${listed.length} dups=${d.length} resurrected=${back.length}`);
        if (d.length) errors.push(`DUPLICATES in ListVectors: ${d.slice(0, 5)}`);
        if (back.length) errors.push(`RESURRECTED: ${back.slice(0, 5)}`);
      } catch (e) {
        errors.push(`checker: ${(e as Error).name} ${(e as Error).message}`);
      }
    }
  };
  await Promise.all([...Array.from({ length: CLIENTS }, (_, c) => own(c)), shared(), checker()]);
  await new Promise((r) => setTimeout(r, 5000));
  const listed = await listAll(c0, B, I, 3, 500);
  const listedSet = new Set(listed);
  const queried = await queryAll(c0, B, I, val(0, 0, 0), Math.min(10000, listed.length + 50));
  const stored = await getAll(c0, B, I, [...expected.keys(), ...sharedKept, ...sharedDeleted]);
  let lost = 0, wrong = 0, ghost = 0, indet = 0;
  for (const [k, want] of expected) {
    if (want === undefined) { indet++; continue; }
    const got = stored.get(k);
    if (want === null) { if (got || listedSet.has(k)) ghost++; continue; }
    if (!got || !listedSet.has(k)) lost++;
    else if (got.join() !== want.join()) wrong++;
  }
  const sharedLost = [...sharedKept].filter((k) => !stored.has(k) || !listedSet.has(k)).length;
  const sharedBack = [...sharedDeleted].filter((k) => stored.has(k) || listedSet.has(k)).length;
  const log = server.output();
  const actions = (log.match(/"event":"maintenance.action-start"[^\n]*/g) ?? []).map((l) => /"action":"([^"]+)"/.exec(l)?.[1] ?? /"kind":"([^"]+)"/.exec(l)?.[1] ?? '?');
  const done = (log.match(/"event":"maintenance.action",[^\n]*/g) ?? []).map((l) => /"action":"([^"]+)"/.exec(l)?.[1]);
  const failed = (log.match(/"event":"maintenance.failed",[^\n]*/g) ?? []).map((l) => /"action":"([^"]+)"/.exec(l)?.[1]);
  const count = (xs: (string | undefined)[]) => xs.reduce<Record<string, number>>((m, a) => ((m[a ?? '?'] = (m[a ?? '?'] ?? 0) + 1), m), {});
  console.log('done', JSON.stringify(count(done)), 'failed', JSON.stringify(count(failed)));
  lat.sort((a, b) => a - b);
  console.log(JSON.stringify({
    seconds: SECONDS, rounds: round, listed: listed.length, listDups: dups(listed).length, queried: queried.length, queryDups: dups(queried).length,
    lost, wrong, ghost, indet, sharedKept: sharedKept.size, sharedLost, sharedDeleted: sharedDeleted.size, sharedBack,
    ops: lat.length, p50: lat[Math.floor(lat.length / 2)], p99: lat[Math.floor(lat.length * 0.99)], max: lat[lat.length - 1],
    actions: actions.reduce<Record<string, number>>((m, a) => ((m[a] = (m[a] ?? 0) + 1), m), {}),
    errors: errors.slice(0, 20), errorCount: errors.length, checks,
  }, null, 1));
  server.child.kill('SIGTERM');
  await server.exited;
  if (process.env.KEEP) console.log(dir); else rmSync(dir, { recursive: true, force: true });
  if (process.env.VERBOSE) console.log((log.match(/[^\n]*maintenance\.[a-z-]*fail[^\n]*/g) ?? []).slice(0, 5).join('\n'));
}
main().catch((e) => { console.error(e); process.exit(1); });

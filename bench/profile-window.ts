// Self and total time per function in a time window of a V8 .cpuprofile (node --cpu-prof), and a
// per-second timeline of busy samples to find the window (e.g. a bench's ingest or query phase):
//   tsx bench/profile-window.ts FILE [--from S] [--to S] [--top N] [--timeline]
// Seconds count from the profile's start. "Total" is inclusive time (a function counted once per
// sample however often it recurs on the stack).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const IDLE = new Set(['(idle)', '(program)', '(garbage collector)']);

function label(node: Node): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const short = url.replace(/^file:\/\//, '').replace(/.*node_modules\//, 'nm:').replace(/.*\/wt\/[^/]+\//, '').replace(/^\/work\/main\//, '');
  return short ? `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}` : functionName;
}

export function windowSummary(profile: Profile, fromS = 0, toS = Infinity, top = 30): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let t = 0;
  let sampled = 0;
  let busy = 0;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    const s = t / 1e6;
    if (s < fromS || s > toS) return;
    const us = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    sampled += us;
    const node = byId.get(id)!;
    const name = label(node);
    self.set(name, (self.get(name) ?? 0) + us);
    if (!IDLE.has(node.callFrame.functionName)) busy += us;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const l = label(byId.get(at)!);
      if (seen.has(l)) continue;
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + us);
    }
  });
  const lines = (m: Map<string, number>) =>
    [...m]
      .filter(([k]) => k !== '(root)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `${((100 * us) / busy).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
  return [
    `window ${fromS}–${toS} s: sampled ${(sampled / 1e6).toFixed(1)} s, busy (not idle/program/GC) ${(busy / 1e6).toFixed(1)} s; % of busy`,
    '-- self --',
    ...lines(self),
    '-- total (inclusive) --',
    ...lines(total),
  ].join('\n');
}

export function timeline(profile: Profile): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const perSecond: number[] = [];
  let t = 0;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    const s = Math.floor(t / 1e6);
    if (!IDLE.has(byId.get(id)!.callFrame.functionName) || byId.get(id)!.callFrame.functionName === '(garbage collector)') perSecond[s] = (perSecond[s] ?? 0) + (profile.timeDeltas[i] ?? 0);
  });
  return perSecond.map((us, s) => `${String(s).padStart(4)} s  ${((us ?? 0) / 1e4).toFixed(0).padStart(3)}% busy`).join('\n');
}

if (require.main === module) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { from: { type: 'string' }, to: { type: 'string' }, top: { type: 'string' }, timeline: { type: 'boolean' } },
  });
  const profile = JSON.parse(readFileSync(positionals[0], 'utf8')) as Profile;
  if (values.timeline) console.log(timeline(profile));
  else console.log(windowSummary(profile, Number(values.from ?? 0), values.to === undefined ? Infinity : Number(values.to), Number(values.top ?? 30)));
}

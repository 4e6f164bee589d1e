// Self time per function from a V8 .cpuprofile (node --cpu-prof): `tsx bench/profile-summary.ts FILE [N]`.
// Also totals by package/file group, so "where does the server's time go" has a short answer.
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

export function summarizeProfile(profile: Profile, top = 30): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>();
  const group = new Map<string, number>();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const short = url.replace(/^file:\/\//, '').replace(/.*node_modules\//, 'nm:').replace(/.*\/wt\/[^/]+\//, '');
    const name = `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    const g = !url ? functionName : short.startsWith('nm:') ? short.split('/').slice(0, short.startsWith('nm:@') ? 2 : 1).join('/') : short.startsWith('node:') ? 'node:' + short.slice(5).split('/')[0] : short;
    group.set(g, (group.get(g) ?? 0) + us);
  }
  const lines = (m: Map<string, number>, n: number) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
  return [`total sampled ${(total / 1e6).toFixed(1)} s`, '-- by group --', ...lines(group, 20), '-- by function (self) --', ...lines(fn, top)].join('\n');
}

if (require.main === module) {
  const [file, n] = process.argv.slice(2);
  console.log(summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(n ?? 30)));
}

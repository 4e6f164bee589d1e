// The tables printed at the end of a classic run, and the targets each flow checks (issues 7 and 16).
import type { DatasetResult, KindResult } from './classic-flow';
import { fmtInt, fmtRecall, table } from './report';
import { fmtMs } from './stats';
import type { UserFlowResult } from './user-flow';

export interface TargetCheck {
  dataset: string;
  target: string;
  value: string;
  met: boolean | undefined;
}

function kindRows(phase: string, kinds: KindResult[]): (string | number)[][] {
  return kinds.map((k) => [
    phase,
    k.kind,
    fmtMs(k.api.p50),
    fmtMs(k.api.p95),
    fmtMs(k.api.p99),
    fmtMs(k.raw.p50),
    fmtMs(k.raw.p99),
    fmtMs(k.addedP50),
    fmtRecall(k.recallApi),
    fmtRecall(k.recallRaw),
  ]);
}

export function datasetTables(r: DatasetResult): string {
  const queries = table(
    ['phase', 'query', 'API p50', 'API p95', 'API p99', 'raw p50', 'raw p99', 'added p50', 'recall API', 'recall raw'],
    [...kindRows(`before (${r.before.queries} q)`, r.before.kinds), ...(r.after ? kindRows(`after (${r.after.queries} q)`, r.after.kinds) : [])],
  );
  const summary = table(
    ['measure', 'value'],
    [
      [`ingest (${r.ingest.concurrency} callers × ${r.ingest.batch}/PutVectors${r.ingest.maintenanceRunning ? ', maintenance on' : ''})`, `${fmtInt(r.ingest.vectorsPerSecond)} vectors/s`],
      ['PutVectors p50 / p99 during ingest', `${fmtMs(r.ingest.putP50)} / ${fmtMs(r.ingest.putP99)} ms`],
      ...(r.ingestWithMaintenance
        ? [
            [`ingest ${fmtInt(r.ingestWithMaintenance.vectors)} new vectors, maintenance on`, `${fmtInt(r.ingestWithMaintenance.vectorsPerSecond)} vectors/s (PutVectors p50 ${fmtMs(r.ingestWithMaintenance.putP50)} ms)`] as (string | number)[],
            ['  maintenance actions meanwhile', r.ingestWithMaintenance.maintenanceActionsDuring.join(', ') || 'none'],
          ]
        : []),
      ...(r.maintenance
        ? [
            [`maintenance (${r.maintenance.driver})`, `${r.maintenance.seconds.toFixed(1)} s`] as (string | number)[],
            ...r.maintenance.steps.map((s) => [`  ${s.name}`, `${s.seconds.toFixed(1)} s`]),
          ]
        : []),
      ['server RSS after ingest', `${r.memory.afterIngestRssMiB} MiB`],
      ['server RSS after the queries / peak', `${r.memory.finalRssMiB} / ${r.memory.peakRssMiB} MiB`],
      ['index table on disk after the queries (vectors folder at the end)', `${r.memory.tableDiskMiB} MiB (${r.memory.vectorsDirMiB} MiB)`],
      ['RSS / disk after the queries (peak)', `${r.memory.rssOverDisk}× (${r.memory.peakOverDisk}×)`],
    ],
  );
  return `\n${r.name} — ${r.description}\nlatencies in ms; recall@10 (recall@100 for topK 100) vs exact brute force\n${queries}\n\n${summary}\n`;
}

export function targets(r: DatasetResult): TargetCheck[] {
  const phase = r.after ?? r.before;
  const label = r.after ? 'after maintenance' : 'before maintenance';
  const k10 = phase.kinds.find((k) => k.kind === 'topK 10')!;
  const checks: TargetCheck[] = [
    { dataset: r.name, target: `topK 10 p50 ≤ 5 ms (${label})`, value: `${fmtMs(k10.api.p50)} ms`, met: k10.api.p50 <= 5 },
    { dataset: r.name, target: 'topK 10 p99 ≤ 15 ms', value: `${fmtMs(k10.api.p99)} ms`, met: k10.api.p99 <= 15 },
    { dataset: r.name, target: 'topK 10 recall@10 ≥ 0.98', value: fmtRecall(k10.recallApi), met: k10.recallApi >= 0.98 },
  ];
  for (const k of phase.kinds.filter((k) => k.filter)) {
    checks.push({ dataset: r.name, target: `${k.kind}: recall@10 ≥ 0.98`, value: fmtRecall(k.recallApi), met: k.recallApi >= 0.98 });
    checks.push({ dataset: r.name, target: `${k.kind}: p50 ≤ 10 ms`, value: `${fmtMs(k.api.p50)} ms`, met: k.api.p50 <= 10 });
  }
  checks.push({ dataset: r.name, target: 'API added p50 over raw LanceDB ≤ 1.5 ms (topK 10)', value: `${fmtMs(k10.addedP50)} ms`, met: k10.addedP50 <= 1.5 });
  checks.push({ dataset: r.name, target: 'ingest ≥ 10,000 vectors/s (fresh index, maintenance off)', value: `${fmtInt(r.ingest.vectorsPerSecond)}/s`, met: r.ingest.vectorsPerSecond >= 10_000 });
  if (r.ingestWithMaintenance) {
    const w = r.ingestWithMaintenance;
    checks.push({ dataset: r.name, target: `ingest ≥ 10,000 vectors/s with maintenance running (${w.maintenanceActionsDuring.length} actions overlapped)`, value: `${fmtInt(w.vectorsPerSecond)}/s`, met: w.vectorsPerSecond >= 10_000 });
  }
  checks.push({ dataset: r.name, target: 'server RSS ≤ 1.5× index on disk (after the queries)', value: `${r.memory.rssOverDisk}×`, met: r.memory.rssOverDisk <= 1.5 });
  return checks;
}

export function userTargets(r: UserFlowResult): TargetCheck[] {
  const k10 = r.kinds.find((k) => k.kind === 'topK 10')!;
  const checks: TargetCheck[] = [
    { dataset: r.dataset, target: 'topK 10 p50 ≤ 4 ms', value: `${fmtMs(k10.api.p50)} ms`, met: k10.api.p50 <= 4 },
    { dataset: r.dataset, target: 'topK 10 p99 ≤ 10 ms', value: `${fmtMs(k10.api.p99)} ms`, met: k10.api.p99 <= 10 },
    { dataset: r.dataset, target: 'topK 10 recall@10 ≥ 0.98', value: fmtRecall(k10.recallApi), met: k10.recallApi >= 0.98 },
    Number.isFinite(k10.apiOverOneShot)
      ? { dataset: r.dataset, target: 'API p50 ≤ 1.3× raw LanceDB one-shot HNSW_SQ p50', value: `${k10.apiOverOneShot}×`, met: k10.apiOverOneShot <= 1.3 }
      : { dataset: r.dataset, target: 'API p50 ≤ 1.3× raw LanceDB one-shot HNSW_SQ p50', value: 'not run (--no-one-shot)', met: undefined },
  ];
  for (const k of r.kinds.filter((k) => k.kind.includes('filter'))) {
    checks.push({ dataset: r.dataset, target: `${k.kind}: p50 ≤ 8 ms`, value: `${fmtMs(k.api.p50)} ms`, met: k.api.p50 <= 8 });
    checks.push({ dataset: r.dataset, target: `${k.kind}: recall@10 ≥ 0.98`, value: fmtRecall(k.recallApi), met: k.recallApi >= 0.98 });
  }
  checks.push({ dataset: r.dataset, target: 'settle ≤ 60 s after the last write', value: `${r.settleSeconds} s`, met: r.settleSeconds <= 60 });
  checks.push({ dataset: r.dataset, target: 'ingest ≥ 12,000 vectors/s, maintenance on', value: `${fmtInt(r.ingest.vectorsPerSecond)}/s`, met: r.ingest.vectorsPerSecond >= 12_000 });
  checks.push({ dataset: r.dataset, target: 'server RSS ≤ 1.5× index on disk', value: `${r.memory.rssOverDisk}×`, met: r.memory.rssOverDisk <= 1.5 });
  if (r.paging) {
    checks.push({ dataset: r.dataset, target: 'full ListVectors (SDK paginator, segments) ≤ 60 s', value: `${r.paging.list.seconds.toFixed(1)} s`, met: r.paging.list.seconds <= 60 && r.paging.list.keys === r.rows });
    checks.push({ dataset: r.dataset, target: 'topK 10,000 in 100 pages ≤ 3× one topK 10,000 search', value: `${r.paging.query.ratio.toFixed(2)}×`, met: r.paging.query.ratio <= 3 });
  }
  return checks;
}

// The PCA behind the picture, free of the UI so it can be tested on its own.

export function normalized(v: number[]): number[] {
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}

/**
 * The two leading principal axes by power iteration on XᵀX (never forming the d×d matrix), each
 * iteration stopping once the direction settles (at worst, pure noise, 2,000 × 1,024-d: about a
 * second here).
 */
export function principalAxes(rows: number[][], maxIterations = 50): { mean: number[]; axes: number[][] } {
  const d = rows[0].length;
  const mean = new Array<number>(d).fill(0);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] += r[j] / rows.length;
  const centred = rows.map((r) => Float64Array.from(r, (x, j) => x - mean[j]));
  const axes: number[][] = [];
  for (let c = 0; c < Math.min(2, d); c++) {
    let v = normalized(Array.from({ length: d }, (_, j) => Math.sin(j * 12.9898 + c * 78.233) + 0.5));
    for (let iter = 0; iter < maxIterations; iter++) {
      const next = new Float64Array(d);
      for (const r of centred) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += r[j] * v[j];
        for (let j = 0; j < d; j++) next[j] += dot * r[j];
      }
      for (const a of axes) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += next[j] * a[j];
        for (let j = 0; j < d; j++) next[j] -= dot * a[j];
      }
      let n = 0;
      for (let j = 0; j < d; j++) n += next[j] * next[j];
      n = Math.sqrt(n);
      if (n < 1e-12) break;
      let agreement = 0;
      for (let j = 0; j < d; j++) agreement += (next[j] / n) * v[j];
      v = Array.from(next, (x) => x / n);
      if (1 - Math.abs(agreement) < 1e-7) break;
    }
    axes.push(v);
  }
  if (axes.length < 2) axes.push(new Array<number>(d).fill(0));
  return { mean, axes };
}

export function project(v: number[], mean: number[], axes: number[][]): [number, number] {
  const p = axes.map((a) => a.reduce((s, x, j) => s + x * (v[j] - mean[j]), 0));
  return [p[0], p[1]];
}

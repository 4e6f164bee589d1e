// The PCA behind the picture, free of the UI so it can be tested on its own.

export function normalized(v: number[]): number[] {
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}

/** The two leading principal axes by power iteration on X^T X (never forming the d×d matrix). */
export function principalAxes(rows: number[][]): { mean: number[]; axes: number[][] } {
  const d = rows[0].length;
  const mean = new Array<number>(d).fill(0);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] += r[j] / rows.length;
  const centred = rows.map((r) => r.map((x, j) => x - mean[j]));
  const axes: number[][] = [];
  for (let c = 0; c < Math.min(2, d); c++) {
    let v = Array.from({ length: d }, (_, j) => Math.sin(j * 12.9898 + c * 78.233) + 0.5);
    for (let iter = 0; iter < 60; iter++) {
      const next = new Array<number>(d).fill(0);
      for (const r of centred) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += r[j] * v[j];
        for (let j = 0; j < d; j++) next[j] += dot * r[j];
      }
      for (const a of axes) {
        const dot = next.reduce((s, x, j) => s + x * a[j], 0);
        for (let j = 0; j < d; j++) next[j] -= dot * a[j];
      }
      const n = Math.hypot(...next);
      if (n < 1e-12) break;
      v = next.map((x) => x / n);
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

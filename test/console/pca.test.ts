// The console's PCA finds the directions a cloud of vectors spreads along, in order.
import { principalAxes, project } from '../../console/src/pca-math';

test('the two leading axes of a cloud stretched along u, then w', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const u = [1, 1, 0, 0, 0].map((x) => x / Math.SQRT2);
  const w = [0, 0, 1, 0, 0];
  const centre = [3, -2, 5, 1, 0];
  const rows = Array.from({ length: 500 }, () => {
    const a = rand() * 10;
    const b = rand() * 3;
    return centre.map((c, j) => c + a * u[j] + b * w[j] + rand() * 0.05);
  });
  const { mean, axes } = principalAxes(rows);
  const dot = (x: number[], y: number[]) => x.reduce((s, v, j) => s + v * y[j], 0);
  expect(Math.abs(dot(axes[0], u))).toBeGreaterThan(0.999);
  expect(Math.abs(dot(axes[1], w))).toBeGreaterThan(0.999);
  expect(Math.abs(dot(axes[0], axes[1]))).toBeLessThan(1e-6);
  expect(project(mean, mean, axes)).toEqual([0, 0]);
  const [x, y] = project(centre.map((c, j) => c + 4 * u[j]), mean, axes);
  expect(Math.abs(x)).toBeGreaterThan(3.5);
  expect(Math.abs(x)).toBeLessThan(4.5);
  expect(Math.abs(y)).toBeLessThan(0.5);
});

test('2,000 vectors of 1,024 dimensions in reasonable time', () => {
  let seed = 11;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const rows = Array.from({ length: 2000 }, (_, i) => Array.from({ length: 1024 }, (_, j) => rand() + (j === 0 ? (i % 2) * 8 : 0)));
  const started = Date.now();
  const { axes } = principalAxes(rows);
  const ms = Date.now() - started;
  console.log(`PCA of 2000 x 1024: ${ms} ms`);
  expect(Math.abs(axes[0][0])).toBeGreaterThan(0.99);
  expect(ms).toBeLessThan(30_000); // generous: the machine is shared
});

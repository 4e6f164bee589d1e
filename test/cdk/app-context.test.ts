// bin/app.ts: `-c` context options reach the stack (bundling skipped, so this is quick).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

function synthApp(context: Record<string, string>): any {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-app-'));
  try {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|CDK_)/.test(k)));
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'bin', 'app.ts')], {
      cwd: ROOT,
      env: { ...env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [], ...context }) },
      stdio: 'pipe',
    });
    return JSON.parse(readFileSync(join(outdir, 'OpenS3Vectors.template.json'), 'utf8'));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

test('optimizeSizedFor and optimizeMemory size the optimize function', () => {
  const template = synthApp({ optimizeSizedFor: '2000000x768', optimizeMemory: '10240' });
  const optimize = Object.values(template.Resources as Record<string, any>).find(
    (r) => r.Type === 'AWS::Lambda::Function' && /scheduled optimize/.test(r.Properties.Description ?? ''),
  );
  expect(optimize.Properties.MemorySize).toBe(10240);
  // 2M × 768 floats × 6 bytes of /tmp each, plus Lambda's 512 MiB.
  expect(optimize.Properties.EphemeralStorage.Size).toBe(512 + Math.ceil((2_000_000 * 768 * 6) / 2 ** 20));
  expect(() => synthApp({ optimizeSizedFor: 'lots' })).toThrow(/optimizeSizedFor must be <vectors>x<dimension>/);
}, 360_000);

test('optimizeJobSizedFor sizes the optimize job; optimizeJob=false leaves it out', () => {
  const tasks = (t: any) => Object.values(t.Resources as Record<string, any>).filter((r) => r.Type === 'AWS::ECS::TaskDefinition');
  const [task] = tasks(synthApp({ optimizeJobSizedFor: '20000000x1536' }));
  // 30.72G floats × 6 bytes of build files ≈ 172 GiB, plus the image.
  expect(task.Properties.EphemeralStorage.SizeInGiB).toBe(Math.ceil((20_000_000 * 1536 * 6) / 2 ** 30) + 5);
  expect(Number(task.Properties.Cpu)).toBeGreaterThanOrEqual(8192);
  expect(tasks(synthApp({ optimizeJob: 'false' }))).toHaveLength(0);
  expect(() => synthApp({ optimizeJobSizedFor: '10M' })).toThrow(/optimizeJobSizedFor must be <vectors>x<dimension>/);
}, 360_000);

// `npm run build` (also before `npm pack`): compiles the server command and the programmatic API
// to plain JavaScript in dist/, so the installed package runs on Node without tsx. Dependencies stay
// in node_modules (LanceDB's native module and dynalite's LevelDB cannot be bundled).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { buildConsole } from '../lambdas/console/build';
import { join } from 'node:path';

const root = join(__dirname, '..');
const dist = join(root, 'dist');

async function main(): Promise<void> {
  for (const output of ['cli.js', 'index.js', 'worker.js', 'types', 'console']) rmSync(join(dist, output), { recursive: true, force: true });
  const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', logLevel: 'warning' } as const;
  await build({ ...common, entryPoints: [join(root, 'bin/cli.ts')], outfile: join(dist, 'cli.js'), banner: { js: '#!/usr/bin/env node' } });
  await build({ ...common, entryPoints: [join(root, 'lambdas/embed/index.ts')], outfile: join(dist, 'index.js') });
  // The maintenance worker process (lambdas/maintenance/worker-client.ts looks for worker.js beside
  // the bundle): without it the package would build indexes in the server process, blocking writes.
  await build({ ...common, entryPoints: [join(root, 'lambdas/maintenance/worker.ts')], outfile: join(dist, 'worker.js') });
  chmodSync(join(dist, 'cli.js'), 0o755);
  await buildConsole(join(dist, 'console'));
  // Types of the programmatic API only (a few .d.ts files), from the real sources.
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.types.json')], { stdio: 'inherit' });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

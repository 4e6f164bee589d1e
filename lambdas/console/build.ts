// Bundles the browser app (console/) into dist/console with esbuild (bin/build-console.ts), run
// before `npm start` and `npm test`, and on the first request when the bundle is missing.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
export const SOURCE_DIR = join(ROOT, 'console');
// From source the bundle is built into dist/console; in the npm package this code runs from dist/
// itself (bundled into dist/cli.js), with the prebuilt bundle beside it.
const PACKAGED_BUNDLE_DIR = join(__dirname, 'console');
export const BUNDLE_DIR = existsSync(join(PACKAGED_BUNDLE_DIR, 'index.html')) ? PACKAGED_BUNDLE_DIR : join(ROOT, 'dist', 'console');
export const BUNDLE_FILES = ['index.html', 'app.js', 'app.css'] as const;

export function bundlePresent(dir = BUNDLE_DIR): boolean {
  return BUNDLE_FILES.every((f) => existsSync(join(dir, f)));
}

export async function buildConsole(outDir = BUNDLE_DIR): Promise<void> {
  // Loaded lazily: esbuild is a build tool, needed only when a bundle is made.
  const esbuild = await import('esbuild');
  mkdirSync(outDir, { recursive: true });
  await esbuild.build({
    entryPoints: [join(SOURCE_DIR, 'src', 'main.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  copyFileSync(join(SOURCE_DIR, 'index.html'), join(outDir, 'index.html'));
  copyFileSync(join(SOURCE_DIR, 'app.css'), join(outDir, 'app.css'));
}

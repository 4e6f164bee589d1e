// The licence gate: every package that ships — the production tree `npm start` loads and
// everything bundled into a Lambda function or layer of the synthesized assets — has a licence on
// the allow-list. The synthesized assets are shared with test/cdk/bundles.test.ts (one synth).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_MAINTENANCE_ENTRY } from '../../lib/s3vectors-stack';
import { SOURCE_DIR as CONSOLE_SOURCE_DIR } from '../../lambdas/console/build';
import { synthesizedAssets } from '../helpers/cdk-synth';
import { ALLOWED_LICENCES, bundledPackages, isAllowed, layerPackages, productionPackages, violations, type ShippedPackage } from './licences';

const ROOT = resolve(__dirname, '..', '..');

function summary(packages: ShippedPackage[]): string {
  const counts = new Map<string, number>();
  for (const p of packages) counts.set(p.licence ?? 'none', (counts.get(p.licence ?? 'none') ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([l, n]) => `${l} ${n}`).join(', ');
}

describe('the licence checker', () => {
  it.each([
    ['MIT', true],
    ['(MIT OR GPL-3.0)', true],
    ['Apache-2.0 AND MIT', true],
    ['MIT AND AGPL-3.0-or-later', false],
    ['AGPL-3.0-or-later', false],
    ['GPL-2.0 WITH Classpath-exception-2.0', false],
    ['Apache-2.0 WITH LLVM-exception', true],
    ['SEE LICENSE IN LICENSE.md', false],
    [undefined, false],
  ])('%s → allowed: %s', (expression, expected) => {
    expect(isAllowed(expression)).toBe(expected);
  });

  it('names an AGPL package and an unlicensed one, with their paths, in a production tree and in a bundle', () => {
    const dir = mkdtempSync(join(tmpdir(), 'licence-gate-'));
    try {
      const write = (path: string, json: object) => {
        mkdirSync(join(dir, path), { recursive: true });
        writeFileSync(join(dir, path, 'package.json'), JSON.stringify(json));
      };
      write('.', { name: 'app', version: '1.0.0', license: 'Apache-2.0', dependencies: { ok: '1', evil: '1' } });
      write('node_modules/ok', { name: 'ok', version: '1.0.0', license: 'MIT' });
      write('node_modules/evil', { name: 'evil', version: '2.0.0', license: 'MIT', dependencies: { '@x/deep': '1' } });
      write('node_modules/evil/node_modules/@x/deep', { name: '@x/deep', version: '3.0.0', license: 'AGPL-3.0-or-later' });
      write('node_modules/nolicence', { name: 'nolicence', version: '0.0.1' });
      expect(violations(productionPackages(dir))).toEqual([
        `@x/deep@3.0.0 (AGPL-3.0-or-later) at ${join('node_modules', 'evil', 'node_modules', '@x', 'deep')}, shipped by npm start`,
      ]);
      const meta = join(dir, 'index.meta.json');
      writeFileSync(meta, JSON.stringify({ inputs: { 'src/a.ts': {}, 'node_modules/ok/index.js': {}, 'node_modules/evil/node_modules/@x/deep/lib/x.js': {}, 'node_modules/nolicence/i.js': {} } }));
      expect(violations(bundledPackages(meta, dir, 'fn'))).toEqual([
        `@x/deep@3.0.0 (AGPL-3.0-or-later) at ${join('node_modules', 'evil', 'node_modules', '@x', 'deep')}, shipped by fn`,
        'nolicence@0.0.1 (no licence) at node_modules/nolicence, shipped by fn',
      ]);
      // As a layer, the tree's top-level files belong to no package: they are reported too.
      expect(violations(layerPackages(dir, 'layer')).map((v) => v.split(' ')[0])).toEqual(['@x/deep@3.0.0', 'nolicence@0.0.1', 'index.meta.json@?', 'package.json@?']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('what ships', () => {
  it(`the production tree that npm start loads has only ${ALLOWED_LICENCES.join(', ')} licences`, () => {
    const packages = productionPackages(ROOT);
    console.log(`npm start: ${packages.length} packages: ${summary(packages)}`);
    expect(packages.length).toBeGreaterThan(50); // the walk found the tree (AWS SDK, LanceDB, middy, …)
    expect(violations(packages)).toEqual([]);
  });

  it('the browser console bundle (served by npm start, shipped in the npm package as dist/console)', async () => {
    // The same entry point and resolution as lambdas/console/build.ts, with a metafile to read.
    const { build } = await import('esbuild');
    const dir = mkdtempSync(join(tmpdir(), 'licence-console-'));
    try {
      const result = await build({ entryPoints: [join(CONSOLE_SOURCE_DIR, 'src', 'main.ts')], bundle: true, format: 'iife', platform: 'browser', target: 'es2020', write: false, metafile: true, absWorkingDir: ROOT, logLevel: 'silent' });
      const metafile = join(dir, 'console.meta.json');
      writeFileSync(metafile, JSON.stringify(result.metafile));
      const packages = bundledPackages(metafile, ROOT, 'the console bundle');
      console.log(`console bundle: ${packages.length} packages: ${summary(packages)}`);
      expect(packages.map((p) => p.name)).toEqual(expect.arrayContaining(['preact', 'htm'])); // the walk found what it bundles
      expect(violations(packages)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no shipped source imports the AGPL evaluator (a devDependency for the differential test only)', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/\.[cm]?[jt]s$/.test(entry.name) && /@cloud-copilot\//.test(readFileSync(path, 'utf8'))) offenders.push(path.slice(ROOT.length + 1));
      }
    };
    for (const dir of ['bin', 'lib', 'lambdas']) walk(join(ROOT, dir));
    expect(offenders).toEqual([]);
  });

  it('every Lambda function bundle and layer of the synthesized assets', async () => {
    const { outdir, seconds } = await synthesizedAssets(existsSync(DEFAULT_MAINTENANCE_ENTRY));
    const template = JSON.parse(readFileSync(join(outdir, 'OpenS3Vectors.template.json'), 'utf8')) as { Resources: Record<string, any> };
    const resources = Object.entries(template.Resources);
    const functions = resources.filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['aws:asset:path']);
    const layers = resources.filter(([, r]) => r.Type === 'AWS::Lambda::LayerVersion');
    expect(functions.length).toBeGreaterThan(20);
    expect(layers.length).toBeGreaterThan(0);
    const shipped: ShippedPackage[] = [];
    for (const [id, fn] of functions) {
      const metafile = join(outdir, fn.Metadata['aws:asset:path'], 'index.meta.json');
      // Without the metafile the bundle's contents cannot be checked: that fails the gate too.
      expect({ id, metafile: existsSync(metafile) }).toEqual({ id, metafile: true });
      shipped.push(...bundledPackages(metafile, ROOT, `function ${id}`));
    }
    for (const [id, layer] of layers) shipped.push(...layerPackages(join(outdir, layer.Metadata['aws:asset:path']), `layer ${id}`));
    const distinct = new Map(shipped.map((p) => [`${p.name}@${p.version}`, p]));
    console.log(`${functions.length} functions + ${layers.length} layer(s) (synth ${seconds ? `${seconds.toFixed(1)} s` : 'reused'}): ${distinct.size} packages: ${summary([...distinct.values()])}`);
    expect([...new Set(violations(shipped))]).toEqual([]);
    // Not even its MIT data package: nothing of the evaluator ships.
    expect(shipped.filter((p) => p.name.startsWith('@cloud-copilot/'))).toEqual([]);
  }, 300_000);
});

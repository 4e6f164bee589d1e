// The real assets: `cdk synth` through the pinned CLI, offline and without AWS credentials, then
// every function's bundle is loaded in Node the way Lambda would (layer on NODE_PATH, nothing else),
// checked against Lambda's 250 MB unzipped limit, and checked to carry the LanceDB binary of its
// architecture. Sizes and synth time are printed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, readSync, closeSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { operationNames } from '../../lambdas/core/model';
import { DEFAULT_MAINTENANCE_ENTRY } from '../../lib/s3vectors-stack';
import { synthesizedAssets } from '../helpers/cdk-synth';

const LAMBDA_UNZIPPED_LIMIT = 262_144_000; // 250 MB, function + layers
const ELF_MACHINE = { x86_64: 0x3e, arm64: 0xb7 } as const;

function duSize(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((sum, entry) => sum + duSize(join(path, entry)), 0);
}

function elfMachine(file: string): number {
  const fd = openSync(file, 'r');
  const header = Buffer.alloc(20);
  readSync(fd, header, 0, 20, 0);
  closeSync(fd);
  expect(header.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  return header.readUInt16LE(18);
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

describe('synthesized assets', () => {
  let outdir: string;
  let template: any;
  let synthSeconds = 0;
  const withOptimize = existsSync(DEFAULT_MAINTENANCE_ENTRY);

  beforeAll(async () => {
    // One synth per state of the sources, shared with test/licence/licences.test.ts.
    const synthesized = await synthesizedAssets(withOptimize);
    outdir = synthesized.outdir;
    synthSeconds = synthesized.seconds;
    template = JSON.parse(readFileSync(join(outdir, 'OpenS3Vectors.template.json'), 'utf8'));
    if (!withOptimize) console.warn(`${DEFAULT_MAINTENANCE_ENTRY} is missing: synthesized with -c optimize=false`);
  }, 300_000);

  test('every function bundle loads in Node with only its layer, fits Lambda, carries its LanceDB binary', () => {
    const resources = template.Resources as Record<string, any>;
    const layers = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::LayerVersion');
    expect(layers).toHaveLength(1);
    const layerDir = join(outdir, layers[0][1].Metadata['aws:asset:path']);
    const layerModules = join(layerDir, 'nodejs', 'node_modules');
    const binaries = readdirSync(join(layerModules, '@lancedb'));
    expect(binaries).toEqual(['lancedb-linux-x64-gnu']);
    const binary = join(layerModules, '@lancedb', 'lancedb-linux-x64-gnu', 'lancedb.linux-x64-gnu.node');
    expect(elfMachine(binary)).toBe(ELF_MACHINE.x86_64);
    const layerSize = duSize(layerDir);

    const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.Runtime?.startsWith('nodejs22'));
    expect(functions).toHaveLength(operationNames.length + (withOptimize ? 1 : 0));
    const rows: string[] = [];
    const sandbox = mkdtempSync(join(tmpdir(), 'lambda-task-'));
    for (const [id, fn] of functions) {
      expect(fn.Properties.Architectures).toEqual(['x86_64']);
      const codeDir = join(outdir, fn.Metadata['aws:asset:path']);
      const files = readdirSync(codeDir);
      expect(files).toEqual(['index.js', 'index.meta.json']); // the metafile is read by the licence gate
      // No second copy of the native module inside the function's own asset.
      expect(readFileSync(join(codeDir, 'index.js'), 'utf8')).not.toMatch(/lancedb\.linux-x64-gnu\.node"\)\s*;?\s*$/m);
      const codeSize = duSize(codeDir);
      const total = codeSize + layerSize;
      expect(total).toBeLessThan(LAMBDA_UNZIPPED_LIMIT);
      // Lambda's layout: code in /var/task, the layer in /opt, NODE_PATH=/opt/nodejs/node_modules.
      // The bundle is loaded from a folder outside the repository, so nothing resolves from ./node_modules.
      const probe = `
        const started = process.hrtime.bigint();
        const m = require(${JSON.stringify(join(codeDir, 'index.js'))});
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        const natives = Object.keys(require.cache).filter((k) => k.endsWith('.node'));
        process.stdout.write(JSON.stringify({ handler: typeof m.handler, natives, ms }));`;
      const out = execFileSync(process.execPath, ['-e', probe], {
        cwd: sandbox,
        env: { PATH: process.env.PATH, NODE_PATH: layerModules, AWS_REGION: 'us-east-1', S3V_LOG_LEVEL: 'silent' },
        encoding: 'utf8',
      });
      const loaded = JSON.parse(out) as { handler: string; natives: string[]; ms: number };
      expect(loaded.handler).toBe('function');
      // Loading the bundle loads LanceDB's native module, from the layer.
      expect(loaded.natives).toEqual([binary]);
      const name = fn.Properties.Description ?? id;
      rows.push(`${name.padEnd(70)} code ${mb(codeSize).padStart(8)}  + layer = ${mb(total)}  (load ${loaded.ms.toFixed(0)} ms)`);
    }
    rmSync(sandbox, { recursive: true, force: true });
    console.log(
      [
        `cdk synth (CLI, bundling ${functions.length} functions + layer): ${synthSeconds ? `${synthSeconds.toFixed(1)} s` : 'reused from an earlier synth of the same sources'}`,
        `LanceDB layer: ${mb(layerSize)} unzipped (limit ${mb(LAMBDA_UNZIPPED_LIMIT)} per function incl. layers)`,
        ...rows,
      ].join('\n'),
    );
  });
});

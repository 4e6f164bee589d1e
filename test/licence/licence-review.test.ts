// Ways past the licence gate found by review (issue 12): a malformed SPDX expression, bundled code
// that lives outside node_modules (a `file:` or linked dependency), files in a layer that belong to
// no package. Each case failed before its fix.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledPackages, isAllowed, layerPackages, licenceOf, violations } from './licences';

describe('SPDX expressions that are not well formed are not allowed', () => {
  it.each([
    ['(MIT GPL-3.0', false], // no closing parenthesis, no operator
    ['(MIT GPL-3.0)', false],
    ['MIT WITH', false],
    ['MIT WITH OR', false],
    ['MIT WITH )', false],
    ['()', false],
    [')MIT(', false],
    ['(MIT OR GPL-3.0)', true], // one may choose MIT
    ['(MIT OR (Apache-2.0 AND BSD-3-Clause))', true],
    ['AGPL-3.0-only', false],
    ['SEE LICENSE IN LICENSE.txt', false],
    ['UNLICENSED', false],
  ])('%s → %s', (expression, expected) => {
    expect(isAllowed(expression)).toBe(expected);
  });

  it.each([
    [{ license: ['MIT'] }, undefined], // an array is not a licence field: nothing to trust
    [{ license: { type: 'AGPL-3.0' } }, 'AGPL-3.0'],
    [{ licenses: [{ type: 'MIT' }, { type: 'GPL-2.0' }] }, '(MIT OR GPL-2.0)'],
  ])('licence field %j reads as %s', (pkg, expected) => {
    expect(licenceOf(pkg as never)).toBe(expected);
  });
});

describe('what a bundle or a layer holds outside node_modules', () => {
  let dir: string;
  const write = (path: string, content: string | object) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), typeof content === 'string' ? content : JSON.stringify(content));
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'licence-review-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a bundled file of another package outside node_modules (file: or linked dependency) is checked as that package', () => {
    write('package.json', { name: 'app', version: '1.0.0', license: 'Apache-2.0' });
    write('src/a.ts', '');
    write('vendor/gpl-thing/package.json', { name: 'gpl-thing', version: '0.1.0', license: 'GPL-3.0-only' });
    write('vendor/gpl-thing/index.js', '');
    write('vendor/ok-thing/package.json', { name: 'ok-thing', version: '0.1.0', license: 'MIT' });
    write('vendor/ok-thing/lib/x.js', '');
    const meta = join(dir, 'index.meta.json');
    writeFileSync(meta, JSON.stringify({ inputs: { 'src/a.ts': {}, 'vendor/gpl-thing/index.js': {}, 'vendor/ok-thing/lib/x.js': {} } }));
    const packages = bundledPackages(meta, dir, 'fn');
    expect(packages.map((p) => p.name).sort()).toEqual(['gpl-thing', 'ok-thing']);
    expect(violations(packages)).toEqual([`gpl-thing@0.1.0 (GPL-3.0-only) at ${join('vendor', 'gpl-thing')}, shipped by fn`]);
  });

  it('a bundled file that no package.json claims is reported', () => {
    write('package.json', { name: 'app', version: '1.0.0', license: 'Apache-2.0' });
    const outside = mkdtempSync(join(tmpdir(), 'licence-review-outside-'));
    try {
      writeFileSync(join(outside, 'stray.js'), '');
      const meta = join(dir, 'index.meta.json');
      const input = join('..', outside.split(/[\\/]/).pop()!, 'stray.js');
      writeFileSync(meta, JSON.stringify({ inputs: { [input]: {} } }));
      expect(violations(bundledPackages(meta, dir, 'fn'))).toEqual([`${input}@? (no licence) at ${input}, shipped by fn`]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('a layer file outside every package folder is reported (its licence is unknown)', () => {
    write('nodejs/node_modules/ok/package.json', { name: 'ok', version: '1.0.0', license: 'MIT' });
    write('nodejs/node_modules/ok/index.js', '');
    write('nodejs/lib/blob.so', 'x');
    write('nodejs/node_modules/.hidden/index.js', '');
    write('bin/tool', 'x');
    const lines = violations(layerPackages(dir, 'layer'));
    expect(lines.sort()).toEqual([
      `${join('bin', 'tool')}@? (no licence) at ${join('bin', 'tool')}, shipped by layer`,
      `${join('nodejs', 'lib', 'blob.so')}@? (no licence) at ${join('nodejs', 'lib', 'blob.so')}, shipped by layer`,
      `${join('nodejs', 'node_modules', '.hidden', 'index.js')}@? (no licence) at ${join('nodejs', 'node_modules', '.hidden', 'index.js')}, shipped by layer`,
    ]);
  });
});

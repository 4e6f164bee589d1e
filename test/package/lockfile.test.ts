// The lockfile must name LanceDB's native build for every platform LanceDB publishes, at LanceDB's
// version: `npm ci` then installs the right one on macOS, Windows and Linux arm64 (npm skips the
// others), instead of a stand-in that cannot load. The registry this project is built against lacks
// some of these builds, so their entries carry no integrity hash (npm checks the download's own).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
const lancedb = JSON.parse(readFileSync(join(ROOT, 'node_modules', '@lancedb', 'lancedb', 'package.json'), 'utf8'));

test.each(Object.keys(lancedb.optionalDependencies).filter((name) => name.startsWith('@lancedb/lancedb-')))('%s is in the lockfile at the installed LanceDB version', (name) => {
  const entry = lock.packages[`node_modules/${name}`];
  expect(entry).toMatchObject({ version: lancedb.version, optional: true, os: [expect.any(String)], cpu: [expect.any(String)] });
  expect(entry.link).toBeUndefined();
});

test('no package is replaced by an override', () => {
  expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).overrides).toBeUndefined();
});

// What ships, and under which licence: the production dependency tree that `npm start` loads
// (read from node_modules the way Node resolves it), and everything inside the synthesized
// Lambda assets (the esbuild metafile of each function bundle, the packages of each layer).
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export const ALLOWED_LICENCES = ['MIT', 'ISC', 'Apache-2.0', 'BSD-2-Clause', 'BSD-3-Clause', '0BSD', 'BlueOak-1.0.0', 'CC0-1.0', 'Unlicense', 'Python-2.0'];
const ALLOWED = new Set(ALLOWED_LICENCES.map((l) => l.toLowerCase()));

export interface ShippedPackage {
  name: string;
  version: string;
  /** Folder of the package, relative to the project root (or to the asset for layer packages). */
  path: string;
  licence: string | undefined;
  /** Why it ships: `npm start`, a function bundle or a layer. */
  via: string;
}

interface PackageJson {
  name?: string;
  version?: string;
  license?: string | { type?: string };
  licenses?: { type?: string }[] | { type?: string };
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
}

const readJson = (file: string): PackageJson => JSON.parse(readFileSync(file, 'utf8')) as PackageJson;

/** The package.json licence as an SPDX expression (legacy `licenses` arrays mean any of them). */
export function licenceOf(pkg: PackageJson): string | undefined {
  if (typeof pkg.license === 'string' && pkg.license.trim()) return pkg.license.trim();
  if (pkg.license && typeof pkg.license === 'object' && pkg.license.type) return pkg.license.type;
  const legacy = Array.isArray(pkg.licenses) ? pkg.licenses : pkg.licenses ? [pkg.licenses] : [];
  const types = legacy.map((l) => l.type).filter((t): t is string => !!t);
  return types.length ? (types.length === 1 ? types[0] : `(${types.join(' OR ')})`) : undefined;
}

/** Whether an SPDX expression is satisfiable with allowed licences only (OR: one side, AND: both). */
export function isAllowed(expression: string | undefined): boolean {
  if (!expression) return false;
  const tokens = expression.replace(/[()]/g, (p) => ` ${p} `).trim().split(/\s+/);
  let i = 0;
  let wellFormed = true;
  const isId = (t: string | undefined) => t !== undefined && !['(', ')', 'AND', 'OR', 'WITH'].includes(t);
  const primary = (): boolean => {
    const t = tokens[i++];
    if (t === '(') {
      const v = or();
      if (tokens[i++] !== ')') wellFormed = false;
      return v;
    }
    if (!isId(t)) wellFormed = false;
    if (tokens[i] === 'WITH') {
      if (!isId(tokens[i + 1])) wellFormed = false;
      i += 2; // an exception only adds permissions
    }
    return isId(t) && ALLOWED.has(t!.toLowerCase());
  };
  const and = (): boolean => {
    let v = primary();
    while (tokens[i] === 'AND') {
      i++;
      v = primary() && v;
    }
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (tokens[i] === 'OR') {
      i++;
      v = and() || v;
    }
    return v;
  };
  const result = or();
  return result && wellFormed && i === tokens.length;
}

/** Node's lookup of `name` from a package folder: its own node_modules, then each parent's. */
function resolvePackage(name: string, from: string, root: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(candidate)) return dirname(candidate);
    if (dir === root || dirname(dir) === dir) return undefined;
    dir = dirname(dir);
  }
}

/**
 * The production dependency tree from `root`'s package.json: dependencies, and the optional and
 * peer dependencies that are installed, recursively; plus the runner of `npm start` (tsx) and its
 * tree. A missing required dependency is reported with no licence, so it fails the gate.
 */
export function productionPackages(root: string): ShippedPackage[] {
  const rootPkg = readJson(join(root, 'package.json'));
  const out = new Map<string, ShippedPackage>();
  const visit = (dir: string, pkg: PackageJson) => {
    const deps: [string, boolean][] = [
      ...Object.keys(pkg.dependencies ?? {}).map((n): [string, boolean] => [n, true]),
      ...Object.keys(pkg.optionalDependencies ?? {}).map((n): [string, boolean] => [n, false]),
      ...Object.keys(pkg.peerDependencies ?? {}).map((n): [string, boolean] => [n, false]),
    ];
    for (const [name, required] of deps) {
      const found = resolvePackage(name, dir, root);
      if (!found) {
        if (required) out.set(`missing:${name}`, { name, version: '?', path: `(not installed, required by ${pkg.name})`, licence: undefined, via: 'npm start' });
        continue;
      }
      const real = realpathSync(found);
      if (out.has(real)) continue;
      const child = readJson(join(found, 'package.json'));
      out.set(real, { name, version: child.version ?? '?', path: relative(root, found) || '.', licence: licenceOf(child), via: 'npm start' });
      visit(found, child);
    }
  };
  out.set(realpathSync(root), { name: rootPkg.name ?? '(root)', version: rootPkg.version ?? '?', path: '.', licence: licenceOf(rootPkg), via: 'npm start' });
  visit(root, rootPkg);
  const runner = /^\s*([\w@/.-]+)/.exec(rootPkg.scripts?.start ?? '')?.[1];
  if (runner && existsSync(join(root, 'node_modules', runner, 'package.json'))) {
    visit(root, { name: 'npm start', dependencies: { [runner]: '*' } });
  }
  return [...out.values()];
}

/** The package folder that holds `file` (the part up to the last node_modules/<name>), if any. */
export function packageRootOf(file: string): string | undefined {
  const parts = file.split(/[\\/]/);
  const at = parts.lastIndexOf('node_modules');
  if (at === -1 || at + 1 >= parts.length) return undefined;
  const length = parts[at + 1].startsWith('@') ? 2 : 1;
  return parts.slice(0, at + 1 + length).join(sep);
}

/**
 * The packages an esbuild bundle holds, from its metafile (inputs are relative to `workingDir`).
 * Inputs outside node_modules are the project's own sources.
 */
export function bundledPackages(metafile: string, workingDir: string, via: string): ShippedPackage[] {
  const meta = JSON.parse(readFileSync(metafile, 'utf8')) as { inputs: Record<string, unknown> };
  const roots = new Set<string>();
  const unclaimed: ShippedPackage[] = [];
  for (const input of Object.keys(meta.inputs)) {
    const file = input.replace(/^[a-z-]+:/, ''); // esbuild namespaces, e.g. `file:`
    const pkgRoot = packageRootOf(file) ?? owningPackage(file, workingDir);
    if (pkgRoot === undefined) unclaimed.push({ name: file, version: '?', path: file, licence: undefined, via });
    else if (pkgRoot !== '') roots.add(pkgRoot);
  }
  const packages = [...roots].map((pkgRoot) => {
    const file = join(resolve(workingDir, pkgRoot), 'package.json');
    const pkg = existsSync(file) ? readJson(file) : {};
    return { name: pkg.name ?? pkgRoot, version: pkg.version ?? '?', path: pkgRoot, licence: licenceOf(pkg), via };
  });
  return [...packages, ...unclaimed];
}

/**
 * For a bundled file outside node_modules (the project's sources, or a `file:`/linked dependency
 * that esbuild reached by its real path): the folder of the nearest package.json that names a
 * package, relative to `workingDir` — '' for the project itself — or undefined when none does.
 */
function owningPackage(file: string, workingDir: string): string | undefined {
  const root = resolve(workingDir);
  let dir = dirname(resolve(workingDir, file));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate) && readJson(candidate).name !== undefined) return dir === root ? '' : relative(root, dir);
    if (dirname(dir) === dir) return undefined;
    dir = dirname(dir);
  }
}

/**
 * Every package folder (one with a package.json naming it) under a layer's node_modules, and every
 * file of the layer outside such a folder (no package vouches for its licence, so it fails).
 */
export function layerPackages(layerDir: string, via: string): ShippedPackage[] {
  const out: ShippedPackage[] = [];
  const packageDirs = new Set<string>();
  const walk = (modules: string) => {
    if (!existsSync(modules)) return;
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith('.')) continue;
      const dirs = entry.startsWith('@') ? readdirSync(join(modules, entry)).map((e) => join(modules, entry, e)) : [join(modules, entry)];
      for (const dir of dirs) {
        if (!statSync(dir).isDirectory()) continue;
        const file = join(dir, 'package.json');
        const pkg = existsSync(file) ? readJson(file) : {};
        packageDirs.add(dir);
        out.push({ name: pkg.name ?? relative(layerDir, dir), version: pkg.version ?? '?', path: relative(layerDir, dir), licence: licenceOf(pkg), via });
        walk(join(dir, 'node_modules'));
      }
    }
  };
  for (const base of ['nodejs/node_modules', 'node_modules']) walk(join(layerDir, base));
  const strays = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (packageDirs.has(path)) continue;
      if (entry.isDirectory()) strays(path);
      else out.push({ name: relative(layerDir, path), version: '?', path: relative(layerDir, path), licence: undefined, via });
    }
  };
  strays(layerDir);
  return out;
}

/** One line per package whose licence is not on the allow-list (or missing). */
/**
 * Packages whose package.json licence is not an SPDX expression, read by hand: the declared text
 * and what the package's LICENSE file is. A change of the declared text needs a new review.
 */
const REVIEWED: Record<string, { declared: string; spdx: string }> = {
  // usearch (the hot index) declares "Apache 2.0"; its LICENSE is the Apache License 2.0 text.
  usearch: { declared: 'Apache 2.0', spdx: 'Apache-2.0' },
};

function reviewed(p: ShippedPackage): string | undefined {
  const review = Object.hasOwn(REVIEWED, p.name) ? REVIEWED[p.name] : undefined;
  return review && p.licence === review.declared ? review.spdx : p.licence;
}

export function violations(packages: ShippedPackage[]): string[] {
  return packages
    .filter((p) => !isAllowed(reviewed(p)))
    .map((p) => `${p.name}@${p.version} (${p.licence ?? 'no licence'}) at ${p.path}, shipped by ${p.via}`);
}

// The LanceDB native module as one Lambda layer, shared by every function: only the platform
// package (`@lancedb/lancedb-linux-<arch>-gnu`: its package.json and the stripped .node), laid out
// as /opt/nodejs/node_modules so Node finds it through NODE_PATH. The JavaScript side of LanceDB and
// apache-arrow are bundled into each handler (one arrow instance per bundle), with the platform
// package marked external — so the 170–200 MB binary ships once per function, never twice.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export type LambdaArchitecture = 'x86_64' | 'arm64';

const PROJECT_ROOT = resolve(__dirname, '..');

export function lanceBinaryPackage(architecture: LambdaArchitecture): { name: string; file: string } {
  const cpu = architecture === 'arm64' ? 'arm64' : 'x64';
  return { name: `@lancedb/lancedb-linux-${cpu}-gnu`, file: `lancedb.linux-${cpu}-gnu.node` };
}

export function lanceVersion(): string {
  return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules/@lancedb/lancedb/package.json'), 'utf8')) as { version: string }).version;
}

function findBinaryPackage(architecture: LambdaArchitecture): string {
  const { name, file } = lanceBinaryPackage(architecture);
  const dir = join(PROJECT_ROOT, 'node_modules', name);
  if (!existsSync(join(dir, file))) {
    throw new Error(
      `${name} is not installed, so there is no LanceDB binary for ${architecture} Lambdas. ` +
        (architecture === 'arm64'
          ? 'LanceDB publishes linux-arm64 builds only up to 0.31: pin @lancedb/lancedb@0.31 and run `npm install --force --cpu=arm64 --os=linux ' + name + '@0.31`, or deploy with architecture x86_64.'
          : 'Run `npm install --force --cpu=x64 --os=linux ' + name + '@' + lanceVersion() + '` (npm skips optional packages of other platforms).'),
    );
  }
  const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  if (version !== lanceVersion()) {
    throw new Error(`${name}@${version} does not match @lancedb/lancedb@${lanceVersion()}; reinstall them at one version`);
  }
  return dir;
}

function tryStrip(file: string, architecture: LambdaArchitecture): boolean {
  // GNU strip only knows the host's ELF flavour; llvm-strip handles both. Apple's strip handles no ELF.
  const tools = architecture === 'x86_64' && process.arch === 'x64' ? ['strip', 'llvm-strip'] : ['llvm-strip', 'aarch64-linux-gnu-strip'];
  for (const tool of tools) {
    try {
      execFileSync(tool, ['--strip-unneeded', file], { stdio: 'ignore' });
      return true;
    } catch {
      // try the next one
    }
  }
  return false;
}

function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/**
 * Builds (once per LanceDB version and architecture, cached under node_modules/.cache) the layer's
 * directory: nodejs/node_modules/<binary package>/{package.json,<stripped .node>}.
 */
export function buildLanceLayerDir(architecture: LambdaArchitecture): { dir: string; stripped: boolean } {
  const source = findBinaryPackage(architecture);
  const { name, file } = lanceBinaryPackage(architecture);
  const cacheRoot = join(PROJECT_ROOT, 'node_modules', '.cache', 'open-s3vectors');
  const key = `lancedb-layer-${lanceVersion()}-${architecture}-${statSync(join(source, file)).size}`;
  const dir = join(cacheRoot, key);
  const marker = join(dir, 'layer.json');
  if (existsSync(marker)) return { dir, stripped: (JSON.parse(readFileSync(marker, 'utf8')) as { stripped: boolean }).stripped };
  const building = `${dir}.${process.pid}.tmp`;
  rmSync(building, { recursive: true, force: true });
  const target = join(building, 'nodejs', 'node_modules', name);
  mkdirSync(target, { recursive: true });
  copyFileSync(join(source, 'package.json'), join(target, 'package.json'));
  copyFileSync(join(source, file), join(target, file));
  const stripped = tryStrip(join(target, file), architecture);
  if (!stripped) {
    process.stderr.write(`warning: could not strip ${file} (no strip/llvm-strip for ${architecture}); the layer ships it unstripped\n`);
  }
  mkdirSync(dirname(dir), { recursive: true });
  writeFileSync(join(building, 'layer.json'), JSON.stringify({ package: name, version: lanceVersion(), stripped }));
  try {
    renameSync(building, dir);
  } catch {
    // Another process built it first: use theirs.
    rmSync(building, { recursive: true, force: true });
  }
  return { dir, stripped };
}

/**
 * Packages the handlers load from the layer rather than from their bundle (none since the IAM
 * policy evaluator is the project's own code, bundled into each handler).
 */
export const LAYER_JS_PACKAGES: string[] = [];

function packageVersions(): string {
  return LAYER_JS_PACKAGES.map((name) => (JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version).join('-');
}

/** Copies (hard-links where possible) a built layer directory into the asset output. */
function populate(outputDir: string, architecture: LambdaArchitecture): void {
  const { dir } = buildLanceLayerDir(architecture);
  const { name, file } = lanceBinaryPackage(architecture);
  const relative = join('nodejs', 'node_modules', name);
  mkdirSync(join(outputDir, relative), { recursive: true });
  for (const entry of ['package.json', file]) linkOrCopy(join(dir, relative, entry), join(outputDir, relative, entry));
  for (const pkg of LAYER_JS_PACKAGES) {
    cpSync(join(PROJECT_ROOT, 'node_modules', pkg), join(outputDir, 'nodejs', 'node_modules', pkg), { recursive: true, dereference: true });
  }
}

export interface LanceDbLayerProps {
  architecture: LambdaArchitecture;
}

export class LanceDbLayer extends Construct {
  readonly layer: lambda.LayerVersion;

  constructor(scope: Construct, id: string, props: LanceDbLayerProps) {
    super(scope, id);
    const { architecture } = props;
    const arch = architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64;
    this.layer = new lambda.LayerVersion(this, 'Layer', {
      description: `LanceDB ${lanceVersion()} native module (${lanceBinaryPackage(architecture).name}, stripped)`,
      compatibleArchitectures: [arch],
      compatibleRuntimes: [lambda.Runtime.NODEJS_22_X],
      // Built locally (no Docker): the hash names the package version and architecture, so a synth
      // into an output folder that already holds this layer reuses it.
      code: lambda.Code.fromAsset(join(PROJECT_ROOT, 'node_modules', '@lancedb', 'lancedb'), {
        assetHashType: AssetHashType.CUSTOM,
        assetHash: `lancedb-layer-${lanceVersion()}-${architecture}-${packageVersions()}-v2`,
        bundling: {
          image: DockerImage.fromRegistry('local-bundling-only'),
          local: {
            tryBundle(outputDir: string) {
              populate(outputDir, architecture);
              return true;
            },
          },
        },
      }),
    });
  }
}

// The hot index's files under `_hot/`: `<storageId>.v<version>.{json,keys,usearch,vectors,filter}`,
// the `.json` marker written last. Finding the newest complete snapshot and removing old ones.
import { readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HotQuantization } from './hot-index';

export interface SavedSnapshot {
  base: string;
  version: number;
  rows: number;
  quantization: HotQuantization;
}

/** The newest complete snapshot saved for a table, if it was built with these settings. */
export async function savedSnapshot(dir: string, storageId: string, settings: { m: number; quantization: HotQuantization }): Promise<SavedSnapshot | undefined> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const prefix = `${storageId}.v`;
  const versions = names.filter((n) => n.startsWith(prefix) && n.endsWith('.json')).map((n) => Number(n.slice(prefix.length, -'.json'.length)));
  const version = Math.max(...versions.filter(Number.isInteger));
  if (!Number.isFinite(version)) return undefined;
  const base = join(dir, `${prefix}${version}`);
  try {
    const marker = JSON.parse(await readFile(`${base}.json`, 'utf8')) as { version: number; rows: number; m: number; quantization: HotQuantization; requested?: string; format?: number };
    // Another layout (no filter tokens: format 1) or quantization setting: rebuilt, not loaded.
    if (marker.version !== version || marker.m !== settings.m || marker.format !== 2 || marker.requested !== settings.quantization) return undefined;
    return { base, version, rows: marker.rows, quantization: marker.quantization };
  } catch {
    return undefined;
  }
}

/** Removes the files in `dir` whose names start with `prefix`, but those of the snapshot `keep`. */
export function removeSnapshotFiles(dir: string, prefix: string, keep?: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const path = join(dir, name);
    if (keep && path.startsWith(`${keep}.`)) continue;
    // Unlinking a mapped file is safe: the mapping lives until the snapshot is collected.
    rmSync(path, { force: true });
  }
}

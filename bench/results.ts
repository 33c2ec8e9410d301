// Where a run's figures go: a JSON document with the machine, the database, the options and every
// round's raw numbers, and the PNG chart, as bench/results/<timestamp>-<target>-<rows>.{json,png} and
// again as latest.{json,png}.
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  totalMemoryBytes: number;
  platform: string;
  kernel: string;
  node: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemoryBytes: os.totalmem(),
    platform: os.platform(),
    kernel: os.release(),
    node: process.version,
  };
}

/** The commit measured, and whether the work tree differed from it. */
export function gitInfo(root: string): { commit: string | null; dirty: boolean | null } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null };
  }
}

/** A URL with any password replaced, for the record. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

export interface Written {
  json: string;
  png: string;
}

export async function writeResults(outDir: string, base: string, document: unknown, png: Uint8Array): Promise<Written> {
  await mkdir(outDir, { recursive: true });
  const json = path.join(outDir, `${base}.json`);
  const image = path.join(outDir, `${base}.png`);
  await writeFile(json, `${JSON.stringify(document, null, 2)}\n`);
  await writeFile(image, png);
  await copyFile(json, path.join(outDir, 'latest.json'));
  await copyFile(image, path.join(outDir, 'latest.png'));
  return { json, png: image };
}

// pgloader: the usual tool for bulk loads, driven by a generated command file (CSV, fields optionally
// enclosed by '"', the table's columns named on both sides). Timed from spawn to exit, like psql-copy.
// Only where the pgloader binary is installed; the benchmark never installs it.
import { accessSync, constants } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ukPriceColumns } from '../../src/gen/pricePaid.js';
import { DATA_DIR } from '../data.js';
import { runChild } from './childProcess.js';
import type { Contender, RunContext } from './types.js';

/** The pgloader binary on PATH, if any. */
function pgloaderPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, 'pgloader');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** pgloader's own column-name syntax: plain names bare, the rest ("Old/New") double-quoted. */
const columnList = ukPriceColumns.map((c) => (/^[a-z_][a-z0-9_]*$/.test(c) ? c : `"${c.replace(/"/g, '""')}"`)).join(', ');

export function commandFile(ctx: RunContext): string {
  // pgloader spells the scheme postgresql://.
  const url = ctx.target.url.replace(/^postgres:\/\//, 'postgresql://');
  return `LOAD CSV
  FROM '${ctx.file.path.replace(/'/g, "''")}'
  HAVING FIELDS (${columnList})
  INTO ${url}
  TARGET TABLE ${ctx.table}
  TARGET COLUMNS (${columnList})
  WITH fields optionally enclosed by '"',
       fields escaped by double-quote,
       fields terminated by ','
;
`;
}

export function pgloader(): Contender {
  const binary = pgloaderPath();
  return {
    name: 'pgloader',
    async unavailable() {
      return binary ? undefined : 'pgloader: skipped (no pgloader binary on PATH; on Debian: apt-get install pgloader)';
    },
    async run(ctx) {
      const dir = path.join(DATA_DIR, 'pgloader');
      await mkdir(dir, { recursive: true });
      const load = path.join(dir, `${ctx.table.replace(/\W/g, '_')}.load`);
      await writeFile(load, commandFile(ctx));
      // --root-dir keeps its logs and reject files beside the data instead of /tmp/pgloader.
      const res = await runChild(binary!, ['--root-dir', dir, load]);
      const summary = /Total import time\s+\S+\s+(\d+)/.exec(res.stdout + res.stderr);
      return { seconds: res.seconds, peakRssMb: res.peakRssMb, clientCpuS: res.cpuS, extra: { binary, reportedRows: summary ? Number(summary[1]) : null } };
    },
  };
}

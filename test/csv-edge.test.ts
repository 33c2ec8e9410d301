// Every file of the public CSV edge-case suites (../shared/testdata/csv-edge) goes through the service
// with a generous error budget. File by file: loaded + rejected + blank lines (+ header) = the records
// in the file, and every reject's line and byte offset point at the record in the original bytes.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createHarness, postJob, waitForJob } from './helpers/harness.js';
import { missing } from './helpers/requirement.js';

// The corpus lives beside the repository (../shared), not in it: a clone elsewhere has none.
const base = new URL('../../shared/testdata/csv-edge/', import.meta.url);
const skip = existsSync(new URL('MANIFEST.tsv', base))
  ? false
  : missing(`the CSV edge-case corpus is not at ${fileURLToPath(base)} (it ships beside the repository, not in it)`);
const manifest = new Map<string, number>(
  skip ? [] : readFileSync(new URL('MANIFEST.tsv', base), 'utf8').trim().split('\n').slice(1).map((l) => {
    const c = l.split('\t');
    return [c[0]!, Number(c[5])] as [string, number];
  }),
);

interface Case {
  file: string;
  header: boolean;
  delimiter: string;
  escape?: string;
  null?: string;
  ncols: number;
  pgRows: number;
  pgError?: string;
}

function parseOutcomes(): Case[] {
  return readFileSync(new URL('postgres15-copy-outcomes.txt', base), 'utf8').trim().split('\n').map((line) => {
    const [file, opts, rest] = line.split(' | ');
    const ncols = Number(/ncols=(\d+)/.exec(line)![1]);
    const [, after] = rest!.split('=>');
    const pgRows = Number(after!.trim().split(' ')[0]);
    const delim = /delimiter (E?)'([^']+)'/.exec(opts!);
    return {
      file: file!.trim(),
      header: /header=True/.test(opts!),
      delimiter: delim ? (delim[1] ? delim[2]!.replace('\\t', '\t') : delim[2]!) : ',',
      ...(/escape '\\'/.test(opts!) ? { escape: '\\' } : {}),
      ...(/null '\\N'/.test(opts!) ? { null: '\\N' } : {}),
      ncols,
      pgRows,
      ...(line.includes('ERROR:') ? { pgError: line.slice(line.indexOf('ERROR:')) } : {}),
    };
  });
}

/** The line (from 1) on which byte `offset` lies: CR, LF and CRLF each end a line. */
function lineAt(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) line++;
    else if (bytes[i] === 0x0d && bytes[i + 1] !== 0x0a) line++;
  }
  return line;
}

t.test('every edge-case file: nothing lost, every reject at its true line', { skip }, async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start('all', { workerConcurrency: 2 });
  const cases = parseOutcomes();
  t.ok(cases.length >= 60, `${cases.length} files`);

  const submitted: Array<{ c: Case; id?: string; status: number; body: any; table: string }> = [];
  for (const [i, c] of cases.entries()) {
    const table = `${h.schema}.edge_${i}`;
    await h.db.query(`CREATE TABLE ${table} (${Array.from({ length: c.ncols }, (_, k) => `c${k + 1} text`).join(', ')})`);
    const url = await h.put(`edge/${c.file}`, readFileSync(new URL(c.file, base)));
    const res = await postJob(svc.url!, {
      source: { url },
      format: { header: c.header, delimiter: c.delimiter, ...(c.escape ? { escape: c.escape } : {}), ...(c.null ? { null: c.null } : {}) },
      target: { table },
      maxErrors: 1000,
    });
    submitted.push({ c, id: res.body.id, status: res.status, body: res.body, table });
  }

  for (const s of submitted) {
    const { c } = s;
    const bytes = readFileSync(new URL(c.file, base));
    if (Buffer.byteLength(c.delimiter) > 1) {
      // COPY takes one-byte delimiters only: refused before anything is stored, naming the field.
      t.equal(s.status, 400, `${c.file}: multi-byte delimiter refused`);
      t.equal(s.body.error.details.field, '/format/delimiter', `${c.file}: field named`);
      continue;
    }
    t.equal(s.status, 202, `${c.file}: accepted`);
    const job = await waitForJob(svc.url!, s.id!, undefined, 30_000);
    t.equal(job.status, 'succeeded', `${c.file}: ${JSON.stringify(job.error)}`);
    const file = job.runs.at(-1).files[0];
    // More than one run tells a retry from a miscount: each run's status and what it did with the file.
    const runs = job.runs.length > 1 ? ` (${job.runs.length} runs: ${JSON.stringify(job.runs.map((r: any) => [r.status, r.error?.code, r.files.map((f: any) => [f.status, f.rowsLoaded])]))})` : '';
    const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ${s.table}`);
    t.equal(rows[0].n, file.rowsLoaded, `${c.file}: rows in the table = rows reported${runs}`);
    const rej = (await (await fetch(`${svc.url}/jobs/${s.id}/rejects?limit=1000`)).json()) as any;
    t.equal(rej.total, file.rowsRejected, `${c.file}: rejects listed = rejects reported`);
    // Records as COPY frames them. The manifest counts with Python's csv module, which agrees except
    // where a quoted field is never closed: COPY (and this service) then reads to the end of the file.
    const unterminated = /unterminated CSV quoted field/.test(c.pgError ?? '');
    const headerRecords = c.header && bytes.length > 0 ? 1 : 0;
    const accounted = file.rowsLoaded + file.rowsRejected + file.blankLines + headerRecords;
    if (!unterminated) t.equal(accounted, manifest.get(c.file), `${c.file}: loaded + rejected + blank + header = records`);
    else t.ok(accounted <= manifest.get(c.file)! && rej.rejects.at(-1).record.length > 0, `${c.file}: the unterminated tail is one reject`);
    if (!c.pgError) t.equal(file.rowsLoaded, c.pgRows, `${c.file}: as many rows as PostgreSQL's own COPY loads`);
    for (const r of rej.rejects) {
      t.equal(r.line, lineAt(bytes, r.byteOffset), `${c.file}: reject at byte ${r.byteOffset} is on line ${r.line}`);
      t.ok(r.byteOffset === 0 || bytes[r.byteOffset - 1] === 0x0a || bytes[r.byteOffset - 1] === 0x0d, `${c.file}: reject starts a line`);
      t.ok(r.sqlstate.startsWith('22') || r.sqlstate.startsWith('23'), `${c.file}: data error ${r.sqlstate}`);
    }
  }
});

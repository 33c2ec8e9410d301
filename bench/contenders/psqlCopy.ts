// psql-copy: the manual way. `psql -c "\copy t FROM '/path' WITH (FORMAT csv)"` reads the file on the
// client and streams it through COPY FROM STDIN. Timed from spawning psql to its exit, so its start and
// connection are included, as they are for anyone who runs it by hand.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { runChild } from './childProcess.js';
import type { Contender } from './types.js';

/** The psql binary itself: Debian's /usr/bin/psql is a Perl wrapper whose memory is not psql's. */
export function psqlBinary(): string {
  try {
    return path.join(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim(), 'psql');
  } catch {
    return 'psql';
  }
}

export function psqlCopy(binary = psqlBinary()): Contender {
  return {
    name: 'psql-copy',
    async run(ctx) {
      const file = ctx.file.path.replace(/'/g, "''");
      const res = await runChild(binary, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', ctx.target.url, '-c', `\\copy ${ctx.table} FROM '${file}' WITH (FORMAT csv)`]);
      return { seconds: res.seconds, peakRssMb: res.peakRssMb, clientCpuS: res.cpuS, extra: { binary } };
    },
  };
}

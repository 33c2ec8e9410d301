import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

// In a process of its own: the guard is about what ends a process, and the test runner has its own
// listener for uncaught exceptions.
const script = `
import { guardStrayErrors, withinJob } from './workers/strayErrors.ts';
import { IngestError } from './src/errors.ts';
import { createLogger } from './src/log.ts';
guardStrayErrors(createLogger('silent'));
const job = new AbortController();
const other = new AbortController();
const otherDone = withinJob(other, () => new Promise((r) => setTimeout(r, 200)));
await withinJob(job, async () => {
  setTimeout(() => { throw new IngestError('TARGET_COLUMN_NOT_FOUND', 'thrown in a callback'); }, 10);
  await new Promise((r) => job.signal.addEventListener('abort', r));
});
await otherDone;
console.log(JSON.stringify({ code: job.signal.reason.code, otherAborted: other.signal.aborted }));
setTimeout(() => { throw new Error('thrown outside any job'); }, 10);
setTimeout(() => console.log('still running'), 500);
`;

t.test('an error thrown outside the promise chain fails the job it came from, and the process lives on', async (t) => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, timeout: 30_000 });
  const lines = run.stdout.toString().trim().split('\n');
  t.same(JSON.parse(lines[0] ?? '{}'), { code: 'TARGET_COLUMN_NOT_FOUND', otherAborted: false }, run.stderr.toString());
  t.equal(run.status, 1, 'an error no job owns still ends the process');
  t.match(run.stderr.toString(), /thrown outside any job/);
  t.equal(lines.length, 1, 'nothing ran after it');
});

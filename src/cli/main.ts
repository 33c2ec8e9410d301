// Entry point of the `citus-ingest` command (bin/citus-ingest.mjs runs it under tsx): runs the
// command line and exits with its code.
import { processIo } from './io.js';
import { run } from './program.js';

// `citus-ingest jobs | head` closes the pipe early: that is the reader's choice, not a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  throw err;
});

const code = await run(process.argv, processIo);
process.exitCode = code;
// Let output drain and services close; if a stray handle would keep the process alive, leave anyway.
setTimeout(() => process.exit(code), 2_000).unref();

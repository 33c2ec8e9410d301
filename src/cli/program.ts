// The command line's commands and flags (commander), and the one place that turns whatever a command
// throws into a message on stderr and an exit code.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { JobStatus } from '../sql/jobRows.js';
import { ApiError } from './client.js';
import { readCliEnv, type CliEnv } from './env.js';
import { CliError, ExitCode, usage } from './exit.js';
import type { Io } from './io.js';
import { jobsCommand } from './jobs.js';
import { loadCommand, type LoadOptions } from './load.js';
import { rejectsCommand } from './rejects.js';
import { watchCommand } from './watch.js';

const statuses: JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a whole number of 1 or more.');
  return Number(value);
}

/** An --api value as a base URL; anything but http(s) is a usage error. */
function apiUrl(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw usage(`--api must be a URL such as http://127.0.0.1:3000, got ${JSON.stringify(value)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw usage(`--api must be an http:// or https:// URL, got ${JSON.stringify(value)}`);
  return value.replace(/\/+$/, '');
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

interface ApiFlags {
  api?: string;
  token?: string;
  json?: boolean;
}

const apiOption = () => new Option('--api <url>', 'base URL of the service (default: $CITUS_INGEST_API or http://127.0.0.1:3000)');
const tokenOption = () => new Option('--token <token>', 'bearer token for the API (default: $CITUS_INGEST_TOKEN)');
const jsonOption = () => new Option('--json', 'print only JSON on stdout');

export function buildProgram(env: CliEnv, io: Io, setExit: (code: number) => void): Command {
  const program = new Command('citus-ingest')
    .description('Load CSV objects from S3 into PostgreSQL and Citus through the citus-ingest service.')
    .version(version())
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });

  const remote = (flags: ApiFlags) => ({
    api: apiUrl(flags.api ?? env.api),
    token: flags.token ?? env.token,
    json: flags.json === true,
  });

  program
    .command('load')
    .description('load one S3 object into a table, showing progress and then the per-stage timings')
    .argument('<s3-url>', 'the object, as s3://bucket/key (or s3://bucket/prefix/ for every object below it)')
    .option('--table <schema.table>', 'target table (required)')
    .option('--columns <a,b,c>', "the file's columns in order (default: all the table's columns)")
    .option('--format <type>', 'csv, ndjson (JSON Lines) or parquet (default: each object\'s name decides: .parquet, .jsonl/.ndjson/.json, else csv)')
    .option('--header', 'the first record is a header and is not loaded')
    .option('--delimiter <char>', 'field delimiter (default ","; "tab" or \\t for a tab)')
    .option('--quote <char>', "quote character (default '\"')")
    .option('--escape <char>', 'escape character inside quotes (default: the quote)')
    .option('--null <string>', 'the string that stands for NULL (default: an unquoted empty field)')
    .option('--encoding <name>', 'file encoding as PostgreSQL names it (default UTF8)')
    .option('--create-from <file.json>', 'create the table when missing, from a JSON {columns:[{name,type}], primaryKey?}')
    .option('--distribute-by <column>', 'Citus: hash-distribute the table on this column')
    .option('--shards <n>', 'Citus: shard count for --distribute-by')
    .option('--reference', 'Citus: make the table a reference table')
    .option('--distribute-existing', 'Citus: distribute an existing plain table before loading')
    .option('--connections-per-worker <n>', 'Citus: most connections a COPY opens to each worker (default 4)')
    .option('--max-errors <n>', 'bad records tolerated per file, kept as rejects (default 0: the first one fails the file)')
    .option('--idempotency-key <key>', 'submit with this Idempotency-Key (the same key and spec give the same job)')
    .addOption(new Option('--api <url>', 'submit to this running service instead of starting one in this process'))
    .addOption(tokenOption())
    .addOption(jsonOption())
    .action(async (url: string, flags: LoadOptions) => {
      const opts: LoadOptions = { ...flags, json: flags.json === true };
      if (flags.api !== undefined) opts.api = apiUrl(flags.api);
      setExit(await loadCommand(url, opts, env, io));
    });

  program
    .command('jobs')
    .description('list jobs, newest first')
    .addOption(new Option('--status <status>', 'only jobs in this status').choices(statuses))
    .option('--limit <n>', 'how many jobs (default 50, at most 500)', positiveInt)
    .option('--cursor <cursor>', 'the next page, as printed after a full page')
    .addOption(apiOption())
    .addOption(tokenOption())
    .addOption(jsonOption())
    .action(async (flags: ApiFlags & { status?: JobStatus; limit?: number; cursor?: string }) => {
      setExit(await jobsCommand({ ...remote(flags), status: flags.status, limit: flags.limit, cursor: flags.cursor }, io));
    });

  program
    .command('watch')
    .description('follow a job with a progress bar until it ends, then print its timings')
    .argument('<id>', 'job id')
    .addOption(apiOption())
    .addOption(tokenOption())
    .addOption(jsonOption())
    .action(async (id: string, flags: ApiFlags) => {
      setExit(await watchCommand(id, remote(flags), io));
    });

  program
    .command('rejects')
    .description("list the records a job's loads rejected")
    .argument('<id>', 'job id')
    .option('--limit <n>', 'how many records (default 100)', positiveInt)
    .option('--run <run-id>', "only this run's rejects")
    .option('--cursor <cursor>', 'the next page, as printed after a full page')
    .addOption(apiOption())
    .addOption(tokenOption())
    .addOption(jsonOption())
    .action(async (id: string, flags: ApiFlags & { limit?: number; cursor?: string; run?: string }) => {
      setExit(await rejectsCommand(id, { ...remote(flags), limit: flags.limit, cursor: flags.cursor, runId: flags.run }, io));
    });

  return program;
}

/** Runs the command line on `argv` (process.argv shape) and returns the exit code. */
export async function run(argv: string[], io: Io, env: CliEnv = readCliEnv()): Promise<number> {
  let code: number = ExitCode.ok;
  const program = buildProgram(env, io, (c) => (code = c));
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    return report(err, io);
  }
}

function report(err: unknown, io: Io): number {
  if (err instanceof CommanderError) {
    // Commander has printed its message (or the help) already.
    return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (err instanceof CliError) {
    io.err(`citus-ingest: ${err.message}`);
    return err.exitCode;
  }
  if (err instanceof ApiError) {
    const field = typeof err.details?.field === 'string' ? err.details.field : undefined;
    const reason = typeof err.details?.reason === 'string' ? err.details.reason : undefined;
    if (err.status === 400) {
      io.err(`citus-ingest: the API refused the request: ${err.code}: ${err.message}`);
      if (field !== undefined) io.err(`  field: ${field || '(root)'}${reason ? ` (${reason})` : ''}`);
      return ExitCode.usage;
    }
    io.err(`citus-ingest: ${err.code} (HTTP ${err.status}): ${err.message}`);
    return ExitCode.failed;
  }
  io.err(`citus-ingest: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return ExitCode.failed;
}

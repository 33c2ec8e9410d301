// `citus-ingest rejects <id>`: the records a job's loads rejected (GET /jobs/:id/rejects), one line
// each with where it was in the file, why PostgreSQL refused it, and the start of the record.
import { ApiClient, ApiError } from './client.js';
import { CliError } from './exit.js';
import { fmtInt, rejectsTable } from './format.js';
import type { Io } from './io.js';

export interface RejectsOptions {
  api: string;
  token?: string | undefined;
  json: boolean;
  limit?: number | undefined;
  cursor?: string | undefined;
  /** Only this run's rejects. */
  runId?: string | undefined;
}

export async function rejectsCommand(id: string, opts: RejectsOptions, io: Io): Promise<number> {
  const client = new ApiClient({ baseUrl: opts.api, token: opts.token });
  let page;
  try {
    page = await client.rejects(id, { limit: opts.limit, cursor: opts.cursor, runId: opts.runId });
  } catch (err) {
    // NOT_FOUND is the answer for a path no route matches; a missing job is JOB_NOT_FOUND.
    if (err instanceof ApiError && err.status === 404 && err.code === 'NOT_FOUND') {
      throw new CliError(`this server has no rejects endpoint (GET /jobs/${id}/rejects answered 404 NOT_FOUND); it predates rejected-record capture`);
    }
    throw err;
  }
  if (opts.json) {
    io.out(JSON.stringify(page, null, 2));
    return 0;
  }
  if (page.rejects.length === 0) {
    io.out(`job ${id} has no rejected records`);
    return 0;
  }
  io.out(rejectsTable(page.rejects));
  io.out(`${fmtInt(page.rejects.length)} of ${fmtInt(page.total)} rejected records`);
  if (page.nextCursor) io.err(`more: citus-ingest rejects ${id} --cursor ${page.nextCursor}`);
  return 0;
}

// `citus-ingest load <s3-url>`: builds the job spec from the flags, submits it (to --api, or to a
// service started in this process), follows it with a progress bar, and prints the report.
import type { CliEnv } from './env.js';
import { ApiClient } from './client.js';
import type { Io } from './io.js';
import { buildSpec, readCreateFile, type LoadFlags } from './spec.js';
import { followJob, printFinal } from './watch.js';

export interface LoadOptions extends LoadFlags {
  /** Base URL of a running service; without it the service runs in this process. */
  api?: string | undefined;
  token?: string | undefined;
  json: boolean;
  /** A JSON file holding target.create. */
  createFrom?: string | undefined;
  idempotencyKey?: string | undefined;
}

export async function loadCommand(url: string, opts: LoadOptions, env: CliEnv, io: Io): Promise<number> {
  // Everything the user typed is checked before a service starts or a request goes out.
  const create = opts.createFrom !== undefined ? readCreateFile(opts.createFrom) : undefined;
  const spec = buildSpec(url, opts, create);

  const submitAndFollow = async (client: ApiClient): Promise<number> => {
    const submitted = await client.submit(spec, opts.idempotencyKey);
    if (!opts.json) io.err(`job ${submitted.id} submitted (${submitted.status}): ${url} -> ${spec.target.table}`);
    const job = await followJob(client, submitted.id, io, { json: opts.json, onInterrupt: 'cancel' });
    return printFinal(job, io, opts.json);
  };

  if (opts.api !== undefined) return submitAndFollow(new ApiClient({ baseUrl: opts.api, token: opts.token ?? env.token }));

  // Loaded only here, so `--api` and the other commands never load the database and queue drivers.
  const { startLocalService } = await import('./inProcess.js');
  const local = await startLocalService(env);
  try {
    return await submitAndFollow(new ApiClient({ baseUrl: local.url, token: opts.token ?? env.token }));
  } finally {
    await local.stop();
  }
}

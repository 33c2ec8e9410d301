// The command line's own settings from the environment, read once. The service's settings come from
// loadConfig() (src/config.ts); these are the few that only the command line uses.

export interface CliEnv {
  /** Base URL of the API for jobs, watch and rejects when --api is not given. Default http://127.0.0.1:3000. */
  api: string;
  /** Bearer token sent as Authorization when --token is not given. Default: none. */
  token: string | undefined;
  /** Whether LOG_LEVEL was set; when not, the in-process service logs only errors (to stderr). */
  logLevelSet: boolean;
}

export const defaultApi = 'http://127.0.0.1:3000';

export function readCliEnv(env: NodeJS.ProcessEnv = process.env): CliEnv {
  const blank = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);
  return {
    api: blank(env.CITUS_INGEST_API) ?? defaultApi,
    token: blank(env.CITUS_INGEST_TOKEN),
    logLevelSet: blank(env.LOG_LEVEL) !== undefined,
  };
}

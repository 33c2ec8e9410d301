// Exit codes of the command line and the error that carries one up to main, so every command ends
// through one place: 0 the job succeeded, 1 it failed or was cancelled (or the API could not be used),
// 2 the command was used wrongly (bad flags, or the API refused the request as malformed).

export const ExitCode = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** An error to print (without a stack) before exiting with `exitCode`. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.failed,
  ) {
    super(message);
  }
}

/** Bad usage: a flag is missing or malformed. Exits 2. */
export function usage(message: string): CliError {
  return new CliError(message, ExitCode.usage);
}

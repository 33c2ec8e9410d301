// Where the commands write: results to stdout, progress and errors to stderr. Passed in rather than
// reached for, so the streams are named in one place (main) and --json can keep stdout clean.

export interface Io {
  /** Writes a line (a newline is added) of the result to stdout. */
  out(text: string): void;
  /** Writes a line to stderr: notices and errors. */
  err(text: string): void;
  /** The stream progress views draw on. */
  progress: NodeJS.WriteStream;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(`${text}\n`),
  err: (text) => void process.stderr.write(`${text}\n`),
  progress: process.stderr,
};

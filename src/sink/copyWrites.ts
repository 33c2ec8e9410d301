// Writes a load's framed bytes into a COPY stream with the socket corked, so the CopyData messages of
// one read leave in one system call. pg-copy-streams sends every write as a CopyData message in two
// socket writes (its 5-byte header, then the bytes), and node-postgres turns Nagle's algorithm off, so
// each of those was a send() and a TCP segment of its own, and a wake-up for the server's backend: four
// per 64 KiB read (the framer gives out the record carried over from the last read, then the rest).
// Corked, they go out as one writev(): over 1,000,000 rows (167 MB) from S3 into COPY, 10,537 socket
// writes became 2,844 (strace, over the load itself), and the server takes in fewer, larger segments.
import type { Writable } from 'node:stream';

/** What corking needs of a socket. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * The socket under a node-postgres client: `connection.stream`, where pg-copy-streams itself writes.
 * Undefined for a client without one (pg-native): its writes then go out one by one, as before.
 */
export function clientSocket(client: unknown): Corkable | undefined {
  const stream = (client as { connection?: { stream?: Partial<Corkable> } } | undefined)?.connection?.stream;
  return typeof stream?.cork === 'function' && typeof stream.uncork === 'function' ? (stream as Corkable) : undefined;
}

/**
 * Writes `pieces` into `copy` in order, waiting for 'drain' when it asks to (or for `ended`, the COPY's
 * own end, so a COPY the server ended does not leave the write waiting). The socket is corked only
 * while writes are made one after the other and never while waiting, so nothing is held back from
 * the server when the loader stops to wait. Stops before the next piece when `stop()` is true.
 */
export async function writeCorked(copy: Writable, socket: Corkable | undefined, pieces: Buffer[], stop: () => boolean, ended: Promise<unknown>): Promise<void> {
  let corked = false;
  try {
    for (const piece of pieces) {
      if (stop()) break;
      if (socket && !corked) {
        socket.cork();
        corked = true;
      }
      if (copy.write(piece)) continue;
      if (corked) {
        corked = false;
        socket!.uncork();
      }
      await Promise.race([new Promise((resolve) => copy.once('drain', resolve)), ended]);
    }
  } finally {
    if (corked) socket!.uncork();
  }
}

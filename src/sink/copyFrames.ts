// The fast path's writes into COPY: a load's framed bytes gathered into large CopyData messages, written
// straight onto the connection's socket from a few buffers reused message after message.
//
// Why not a write into pg-copy-streams per piece: it sends each write as one CopyData message, a 5-byte
// header then the bytes, every one through its own Writable and the socket's, and the framer gives out two
// or three pieces per 64 KiB socket read. Over 1,000,000 rows (167 MB) that was about 5,000 messages and
// as many header buffers; `writev` alone was 12-25% of the loader's sampled CPU (`npm run bench --
// --profile`, issue #19). Here the pieces of many reads are copied (a memcpy) into
// a frame of FRAME_BYTES whose first five bytes are kept for the message header; a full frame goes out
// as one socket write: about 160 messages and writes per 167 MB, and no buffer allocated for any.
//
// pg-copy-streams still runs the protocol around the data: it sends the COPY statement, learns that the
// server is in copy-in mode (only then are frames written: until CopyInResponse a frame on the socket
// could precede the query itself), sends CopyDone at the end and CopyFail on abort, and reports the
// server's error and row count. Nothing else writes to the socket while a COPY is in copy-in mode, so
// frames written directly keep their order with CopyDone.
import type { Writable } from 'node:stream';

/** Bytes of COPY input per CopyData message (and per frame buffer). */
export const FRAME_BYTES = 1 << 20;
/** Frames written and not yet taken by the kernel before the loader waits: the fast path's memory is this x FRAME_BYTES. */
export const FRAMES_IN_FLIGHT = 3;

const HEADER = 5;
const COPY_DATA = 0x64; // 'd'
const EMPTY = Buffer.alloc(0);

/**
 * Frames of the usual size that no COPY is using, kept for the next (a worker's loads one after another,
 * or a few at once): a fresh 1 MiB buffer costs a page fault per 4 KiB as it is first written, 768 per
 * load for three frames (issue #19; net/slabs.ts has the same for reads). At most this many are kept.
 */
const SPARE_FRAMES = 2 * FRAMES_IN_FLIGHT;
const spareFrames: Buffer[] = [];

/** What the fast path needs of the connection's socket: writes with a completion callback. */
export interface FrameSocket {
  write(chunk: Buffer, cb: (err?: Error | null) => void): boolean;
}

/**
 * The socket under a node-postgres client: `connection.stream`, where pg-copy-streams itself writes.
 * Undefined for a client without one (pg-native): frames then go through the COPY stream as writes.
 */
export function clientSocket(client: unknown): FrameSocket | undefined {
  const stream = (client as { connection?: { stream?: Partial<FrameSocket> } } | undefined)?.connection?.stream;
  return typeof stream?.write === 'function' ? (stream as FrameSocket) : undefined;
}

/**
 * Gathers one COPY's input into frames and writes each full frame as one CopyData message. `add()`
 * copies pieces in; it returns a promise when FRAMES_IN_FLIGHT frames are still being written (wait for
 * it before adding more: backpressure), undefined otherwise. `end()` writes the last frame; the caller then
 * ends the COPY stream, which sends CopyDone after it. A frame is reused only once the socket has called
 * back its write: then the kernel holds its bytes.
 */
export class CopyFrames {
  /**
   * Where written frames wait to be reused: the process's spare ones, or this COPY's own for frames of
   * another size than FRAME_BYTES (tests).
   */
  private readonly free: Buffer[];
  private frame: Buffer | undefined;
  private used = HEADER;
  private inFlight = 0;
  private wake: (() => void) | undefined;
  /** Resolves once the server is in copy-in mode: only then are frames written. */
  private started: Promise<void> | undefined;
  private live = false;
  /** The COPY is over (the server ended it, or it was aborted): nothing more is written. */
  private over = false;
  private error: Error | undefined;

  constructor(
    private readonly copy: Writable,
    private readonly socket: FrameSocket | undefined,
    /** The COPY's own end (its 'finish' or error). */
    ended: Promise<unknown>,
    private readonly frameBytes = FRAME_BYTES,
  ) {
    this.free = frameBytes === FRAME_BYTES ? spareFrames : [];
    const stop = (): void => {
      this.over = true;
      this.wakeUp();
    };
    ended.then(stop, stop);
  }

  add(pieces: readonly Buffer[]): Promise<void> | undefined {
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      let from = 0;
      while (from < piece.length) {
        if (this.over) return undefined;
        if (!this.frame) {
          if (this.inFlight >= FRAMES_IN_FLIGHT || !this.live) {
            const rest = [piece.subarray(from), ...pieces.slice(i + 1)];
            return this.writable().then(() => this.add(rest));
          }
          this.frame = this.free.pop() ?? Buffer.allocUnsafeSlow(HEADER + this.frameBytes);
        }
        const n = Math.min(piece.length - from, this.frame.length - this.used);
        piece.copy(this.frame, this.used, from, from + n);
        this.used += n;
        from += n;
        if (this.used === this.frame.length) this.send();
      }
    }
    return undefined;
  }

  /** Writes what is gathered; resolves once every frame has been written (or the COPY is over). */
  async end(): Promise<void> {
    if (this.used > HEADER && !this.over) {
      await this.writable();
      if (!this.over) this.send();
    }
    while (this.inFlight > 0 && !this.over && !this.error) await this.nextWake();
    if (this.error) throw this.error;
  }

  private send(): void {
    const frame = this.frame!;
    const length = this.used;
    this.frame = undefined;
    this.used = HEADER;
    this.inFlight++;
    const done = (err: Error | null | undefined, reusable: boolean): void => {
      this.inFlight--;
      // A frame whose write failed may still be referenced by the socket's queue: it is not reused.
      if (err) this.error ??= err;
      else if (reusable && this.free.length < SPARE_FRAMES) this.free.push(frame);
      this.wakeUp();
    };
    if (!this.socket) {
      // Without the socket pg-copy-streams frames the bytes itself; its callback does not prove that the
      // kernel has them, so the frame is left to the collector.
      this.copy.write(frame.subarray(HEADER, length), (err) => done(err, false));
      return;
    }
    frame[0] = COPY_DATA;
    frame.writeUInt32BE(length - 1, 1);
    this.socket.write(length === frame.length ? frame : frame.subarray(0, length), (err) => done(err, length === frame.length));
  }

  /** Resolves when a frame may be started: the server is in copy-in mode and fewer than FRAMES_IN_FLIGHT are being written. */
  private async writable(): Promise<void> {
    if (!this.live) {
      // pg-copy-streams holds a write until CopyInResponse; an empty one is an empty CopyData message.
      this.started ??= new Promise<void>((resolve) =>
        this.copy.write(EMPTY, (err) => {
          if (err) this.over = true;
          resolve();
        }),
      );
      await Promise.race([this.started, this.nextWake()]);
      if (this.over) return;
      this.live = true;
    }
    while (this.inFlight >= FRAMES_IN_FLIGHT && !this.over && !this.error) await this.nextWake();
    if (this.error) throw this.error;
  }

  private nextWake(): Promise<void> {
    if (this.over) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const before = this.wake;
      this.wake = () => {
        before?.();
        resolve();
      };
    });
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

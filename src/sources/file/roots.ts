// Where a file:// source may read: below LOCAL_SOURCE_ROOTS, both as the path is written (checked before
// any file system call) and as it really is once symbolic links are resolved (checked at each access,
// and again on the opened descriptor, so a link swapped in between cannot lead outside).
import { readlink, realpath } from 'node:fs/promises';
import { isAbsolute, normalize } from 'node:path';
import { IngestError } from '../../errors.js';
import { checkKey } from '../keys.js';

/** True when `path` is `root` or below it (both absolute and normalized; a trailing "/" is ignored). */
export function isUnder(path: string, root: string): boolean {
  const p = path.length > 1 ? path.replace(/\/+$/, '') : path;
  const r = root.length > 1 ? root.replace(/\/+$/, '') : root;
  return r === '/' || p === r || p.startsWith(`${r}/`);
}

function forbidden(message: string, url: string): IngestError {
  return new IngestError('SOURCE_FORBIDDEN', message, { field: '/source/url', url });
}

export class Roots {
  constructor(private readonly roots: readonly string[]) {}

  /** Throws SOURCE_FORBIDDEN unless `path` (as written) is below a root; INVALID_SPEC for a malformed path. */
  checkWritten(path: string, url: string): void {
    checkKey(path, '/source/url');
    if (!isAbsolute(path) || path.includes('\0')) {
      throw new IngestError('INVALID_SPEC', `${url}: not an absolute path`, { field: '/source/url', reason: 'must be an absolute path' });
    }
    if (this.roots.length === 0) {
      throw forbidden(`${url}: file:// sources are off (LOCAL_SOURCE_ROOTS is empty); nothing was read`, url);
    }
    if (!this.roots.some((root) => isUnder(normalize(path), root))) {
      throw forbidden(`${url} is not below LOCAL_SOURCE_ROOTS (${this.roots.join(', ')}); nothing was read`, url);
    }
  }

  /** The roots with their symbolic links resolved; a root that does not exist (yet) is left out (ping reports it). */
  private async realRoots(): Promise<string[]> {
    const real = await Promise.all(this.roots.map((root) => realpath(root).catch(() => undefined)));
    return real.filter((root): root is string => root !== undefined);
  }

  private async checkReal(real: string, url: string): Promise<void> {
    const roots = await this.realRoots();
    if (!roots.some((root) => isUnder(real, root))) {
      // The link's target stays out of the message: it names a place the user may not read.
      throw forbidden(`${url} leads, through a symbolic link, outside LOCAL_SOURCE_ROOTS; nothing was read`, url);
    }
  }

  /** `path` with its symbolic links resolved, or SOURCE_FORBIDDEN when that lies outside every root. Fails like realpath (ENOENT...). */
  async resolve(path: string, url: string): Promise<string> {
    const real = await realpath(path);
    await this.checkReal(real, url);
    return real;
  }

  /**
   * Checks what an open descriptor really points at (Linux: /proc/self/fd), closing the gap between
   * resolve() and open(). Where /proc is not mounted, resolve() and O_NOFOLLOW are the check.
   */
  async checkOpened(fd: number, url: string): Promise<void> {
    let real: string;
    try {
      real = await readlink(`/proc/self/fd/${fd}`);
    } catch {
      return;
    }
    if (isAbsolute(real)) await this.checkReal(real, url);
  }
}

// Files on a mounted volume (NFS, an HDFS NFS gateway, a Kubernetes volume) as an ObjectSource, below
// LOCAL_SOURCE_ROOTS only. A file's version is `${mtimeNs}-${size}-${inode}`: the modification time
// changes on a rewrite in place, the size catches an append within the clock's granularity (NFS may keep
// whole seconds), and the inode changes when a writer replaces the file by renaming a new one over it.
// Open re-checks the version on the descriptor before the first byte and after the last.
import { constants, type BigIntStats, type Dirent } from 'node:fs';
import { access, lstat, open, readFile, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { IngestError } from '../../errors.js';
import type { ByteRange, ObjectInfo, ObjectRef, ObjectSource } from '../source.js';
import { FileBody } from './fileBody.js';
import { Roots } from './roots.js';
import type { FileSettings } from './settings.js';
import { fileScheme } from './url.js';

const versionOf = (st: BigIntStats): string => `${st.mtimeNs}-${st.size}-${st.ino}`;

// Stats in flight at once while listing a directory (an NFS round trip each).
const STAT_CONCURRENCY = 16;
// Files per listed page, as many as an S3 list request returns.
const FILE_PAGE = 1000;

export class FileSource implements ObjectSource {
  readonly listable = true;
  readonly scheme = 'file';
  private readonly roots: Roots;

  constructor(private readonly o: { settings: FileSettings }) {
    this.roots = new Roots(o.settings.roots);
  }

  url(ref: ObjectRef): string {
    return fileScheme.url(ref);
  }

  checkAllowed(ref: ObjectRef): void {
    this.roots.checkWritten(ref.key, this.url(ref));
  }

  mapError(err: unknown, where: ObjectRef): IngestError {
    if (err instanceof IngestError) return err;
    const url = this.url(where);
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const message = err instanceof Error ? err.message : String(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return new IngestError('SOURCE_NOT_FOUND', `${url} does not exist; check source.url (and that the volume is mounted)`, { url, errno: code }, { cause: err });
    }
    if (code === 'EACCES' || code === 'EPERM') {
      return new IngestError('SOURCE_ACCESS_DENIED', `the service's user may not read ${url} (${code}); check the file's and its directories' permissions`, { url, errno: code }, { cause: err });
    }
    return new IngestError('SOURCE_UNAVAILABLE', `reading ${url} failed: ${message}`, { url, ...(code ? { errno: code } : {}) }, { cause: err });
  }

  private infoOf(key: string, st: BigIntStats): ObjectInfo {
    return { scheme: this.scheme, container: '', key, size: Number(st.size), version: versionOf(st), contentEncoding: undefined, lastModified: st.mtime };
  }

  private notAFile(ref: ObjectRef, st: BigIntStats): IngestError {
    const url = this.url(ref);
    const hint = st.isDirectory() ? `it is a directory; write ${url}/ to load every file below it` : 'it is not a regular file';
    return new IngestError('SOURCE_NOT_FOUND', `${url}: ${hint}`, { url });
  }

  async head(ref: ObjectRef): Promise<ObjectInfo> {
    this.checkAllowed(ref);
    try {
      const st = await stat(await this.roots.resolve(ref.key, this.url(ref)), { bigint: true });
      if (!st.isFile()) throw this.notAFile(ref, st);
      return this.infoOf(ref.key, st);
    } catch (err) {
      throw this.mapError(err, ref);
    }
  }

  /**
   * Every regular file below the prefix, recursively, `_SUCCESS` and `.crc` files included (choosing is
   * the caller's job), in key order, in pages of up to FILE_PAGE files. A symbolic link to a file inside
   * the roots is listed under the link's path; one leading outside fails the listing (SOURCE_FORBIDDEN)
   * when the walk reaches it, rather than dropping files silently. Links to directories are not followed
   * (they could loop), nor are dangling links, FIFOs or sockets listed. The walk holds the entry names of
   * the directories it is inside (readdir has no key order to page by), never the stats of the prefix.
   */
  async *list(prefix: ObjectRef, signal: AbortSignal): AsyncGenerator<ObjectInfo[]> {
    this.checkAllowed(prefix);
    try {
      yield* this.walk(prefix.key.replace(/\/+$/, ''), await this.roots.resolve(prefix.key, this.url(prefix)), prefix, signal);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw this.mapError(err, prefix);
    }
  }

  /** One directory's files in key order (a subdirectory sorts as its name + "/": where its keys go), in pages. */
  private async *walk(dir: string, realDir: string, prefix: ObjectRef, signal: AbortSignal): AsyncGenerator<ObjectInfo[]> {
    signal.throwIfAborted();
    const sortName = (e: Dirent): string => (e.isDirectory() ? `${e.name}/` : e.name);
    const entries = (await readdir(realDir, { withFileTypes: true })).sort((a, b) => (sortName(a) < sortName(b) ? -1 : 1));
    let page: ObjectInfo[] = [];
    for (let i = 0; i < entries.length; ) {
      const entry = entries[i]!;
      if (entry.isDirectory()) {
        i += 1;
        if (page.length > 0) yield page;
        page = [];
        // Resolved again: a directory swapped for a link since readdir must not lead outside the roots.
        yield* this.walk(`${dir}/${entry.name}`, await this.roots.resolve(join(realDir, entry.name), this.url(prefix)), prefix, signal);
        continue;
      }
      const batch: Dirent[] = [];
      while (i < entries.length && !entries[i]!.isDirectory() && batch.length < Math.min(STAT_CONCURRENCY, FILE_PAGE - page.length)) batch.push(entries[i++]!);
      for (const info of await Promise.all(batch.map((e) => this.entryInfo(`${dir}/${e.name}`, join(realDir, e.name), e)))) {
        if (info) page.push(info);
      }
      if (page.length >= FILE_PAGE) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  }

  /** A directory entry's ObjectInfo: a regular file, or a link to one inside the roots; else undefined. */
  private async entryInfo(key: string, real: string, entry: Dirent): Promise<ObjectInfo | undefined> {
    if (entry.isFile()) {
      const st = await lstat(real, { bigint: true });
      return st.isFile() ? this.infoOf(key, st) : undefined;
    }
    if (entry.isSymbolicLink()) {
      const st = await this.linkedFile(real, key);
      return st ? this.infoOf(key, st) : undefined;
    }
    return undefined;
  }

  /** The stats of the regular file a listed link points at; undefined for a dangling link or a directory. */
  private async linkedFile(link: string, key: string): Promise<BigIntStats | undefined> {
    let target: string;
    try {
      target = await this.roots.resolve(link, this.url({ scheme: this.scheme, container: '', key }));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const st = await stat(target, { bigint: true });
    return st.isFile() ? st : undefined;
  }

  async open(info: ObjectInfo, range?: ByteRange): Promise<Readable> {
    this.checkAllowed(info);
    if (range && range.end <= range.start) return Readable.from([]);
    const url = this.url(info);
    let handle: FileHandle | undefined;
    try {
      // O_NOFOLLOW: the resolved path's last step must not have become a link; O_NONBLOCK: a FIFO swapped in must not hang the open.
      handle = await open(await this.roots.resolve(info.key, url), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      await this.roots.checkOpened(handle.fd, url);
      const st = await handle.stat({ bigint: true });
      if (!st.isFile()) throw this.notAFile(info, st);
      if (versionOf(st) !== info.version) throw this.changed(info, st);
    } catch (err) {
      await handle?.close().catch(() => {});
      throw this.mapError(err, info);
    }
    return this.pinnedStream(handle, info, range);
  }

  private changed(info: ObjectInfo, st: BigIntStats): IngestError {
    const url = this.url(info);
    return new IngestError('SOURCE_CHANGED', `${url} was rewritten after it was listed (version ${versionOf(st)}, was ${info.version}); nothing from the new version was loaded`, { url });
  }

  /** The file's bytes; a rewrite in place while they are read fails the stream at its end (SOURCE_CHANGED). */
  private pinnedStream(handle: FileHandle, info: ObjectInfo, range?: ByteRange): Readable {
    return new FileBody(handle, {
      start: range?.start ?? 0,
      end: range?.end ?? Number.POSITIVE_INFINITY,
      atEnd: async () => {
        const st = await handle.stat({ bigint: true });
        return versionOf(st) === info.version ? undefined : this.changed(info, st);
      },
      mapError: (err) => this.mapError(err, info),
    });
  }

  async readText(ref: ObjectRef, signal: AbortSignal): Promise<string | undefined> {
    this.checkAllowed(ref);
    try {
      return await readFile(await this.roots.resolve(ref.key, this.url(ref)), { encoding: 'utf8', signal });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw this.mapError(err, ref);
    }
  }

  /** For /readyz: every root exists, is a directory and may be read (a volume that failed to mount fails here). */
  async ping(_signal?: AbortSignal): Promise<void> {
    for (const root of this.o.settings.roots) {
      try {
        if (!(await stat(root)).isDirectory()) throw new Error('not a directory');
        await access(root, constants.R_OK | constants.X_OK);
      } catch (err) {
        throw new Error(`LOCAL_SOURCE_ROOTS: ${root} cannot be read (${(err as Error).message})`, { cause: err });
      }
    }
  }
}

// The source seam: where a load's bytes come from. Every scheme (s3://, gs://, az://, https://,
// file://) is one ObjectSource; the load path sees only this interface and the ObjectInfo it returns.
// A scheme's URL parsing is pure (no credentials: the API validates specs with it) and lives in the
// scheme's own folder; the registry (sources/registry.ts) maps a URL's scheme to both.
import type { Readable } from 'node:stream';

/** Where an object (or a prefix of objects) is, in the terms every scheme shares. */
export interface ObjectRef {
  /** The URL scheme: "s3", "gs", "az", "https", "file". */
  scheme: string;
  /**
   * What holds the object: the bucket (s3, gs), "account/container" (az), "host[:port]" (https), "" (file).
   * With the scheme it names one namespace of keys.
   */
  container: string;
  /** The object's key or path within the container (a prefix ends in "/"). For file://, the absolute path. */
  key: string;
}

/** An object as the source saw it: its identity in the ledger is (scheme, container, key, version, size). */
export interface ObjectInfo extends ObjectRef {
  size: number;
  /** What changes when the object is rewritten: the ETag (s3, gs, az, https), else Last-Modified or mtime. */
  version: string;
  /** Content-Encoding as the source reports it ("gzip"); a listed object may learn it at open. */
  contentEncoding: string | undefined;
  /** When the object was last written, as the source reports it (mode "merge" may order by it). */
  lastModified?: Date;
}

/** A byte range of an object: `start` inclusive, `end` exclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ObjectSource {
  readonly scheme: string;
  /** The object, or SOURCE_NOT_FOUND / SOURCE_ACCESS_DENIED / SOURCE_UNAVAILABLE. */
  head(ref: ObjectRef, signal?: AbortSignal): Promise<ObjectInfo>;
  /**
   * False for a source that cannot list (https://): a prefix then loads only through a marker's
   * manifest, whose files are looked up one by one.
   */
  readonly listable: boolean;
  /**
   * Every object below a prefix (`ref.key` ends in "/"), a page at a time as the store hands them out
   * (S3 and gs://: up to 1,000 per request; az://: up to 5,000; file://: up to 1,000 of one directory),
   * in key order. Nothing is requested before the first page is asked for, and each next page only when
   * it is asked for: the caller holds as many pages as it takes, never the whole prefix. A page may be
   * empty. Aborting `signal` stops the listing (the pending request rejects with the signal's reason).
   */
  list(prefix: ObjectRef, signal: AbortSignal): AsyncIterable<ObjectInfo[]>;
  /**
   * The object's bytes (or the range's) as a stream, pinned to `info.version`: an object rewritten
   * since it was listed fails (SOURCE_CHANGED or SOURCE_UNAVAILABLE) rather than loading bytes the
   * ledger does not describe. A source that cannot serve a range throws SOURCE_RANGE_UNSUPPORTED.
   */
  open(info: ObjectInfo, range?: ByteRange, signal?: AbortSignal): Promise<Readable>;
  /** A small object's text (a _SUCCESS marker), or undefined when it does not exist. */
  readText(ref: ObjectRef, signal: AbortSignal): Promise<string | undefined>;
  /** Refuses (SOURCE_FORBIDDEN) a container or path outside the scheme's allow-list, before any request. */
  checkAllowed(ref: ObjectRef): void;
  /** For /readyz: resolves when the source answers, rejects with the reason when it does not. */
  ping(signal: AbortSignal): Promise<void>;
  /** The URL a user would write for `ref` (used in messages, rejects and results). */
  url(ref: ObjectRef): string;
  /** Releases clients and sockets when the service stops. */
  close?(): void | Promise<void>;
}

/** A source URL's scheme: the one parser for every URL a spec may hold. */
export interface SchemeParser {
  readonly scheme: string;
  /** The URL prefixes this scheme accepts ("s3://"; Azure also "abfss://"). */
  readonly prefixes: readonly string[];
  /** What a URL of this scheme looks like, for messages ("s3://bucket/key"). */
  readonly shape: string;
  /** Parses a URL (one object, or a prefix ending in "/"); throws INVALID_SPEC naming `field`. */
  parse(url: string, field: string): ObjectRef;
  /** The URL for a ref (the inverse of parse, in the scheme's own spelling). */
  url(ref: ObjectRef): string;
}

/** True for a ref naming every object below a prefix. */
export function isPrefix(ref: ObjectRef): boolean {
  return ref.key.endsWith('/');
}

// A run's objects as they are listed: pages handed out one after another, counted as they go, so a run
// can load the first page while the store is still listing the next and never holds the whole prefix.
// A single object, a manifest's files and mode "merge" (which must order and check every file first)
// use the same shape over a list collected beforehand.
import type { ObjectInfo } from './source.js';

export class Listing {
  /** Objects listed so far (those the run will load or skip), the first page included. */
  listed = 0;
  /** Their bytes. */
  bytes = 0;
  /** True once the last page has been handed out: `listed` and `bytes` are then the totals. */
  complete = false;
  private taken = false;

  /**
   * @param first the first page, already fetched (so an empty prefix fails before the run prepares its target)
   * @param rest the pages after it, fetched only as they are asked for
   */
  private constructor(private first: ObjectInfo[], private readonly rest: AsyncIterator<ObjectInfo[]> | undefined) {
    this.count(first);
    this.complete = rest === undefined;
  }

  /** A listing known in full beforehand: one object, a manifest's files, a merge's ordered files. */
  static collected(objects: ObjectInfo[]): Listing {
    return new Listing(objects, undefined);
  }

  /**
   * A listing streamed from `pages`: waits for its first page holding an object. Returns undefined when
   * the pages run out without one (the caller says why nothing is there).
   */
  static async streamed(pages: AsyncIterable<ObjectInfo[]>): Promise<Listing | undefined> {
    const it = pages[Symbol.asyncIterator]();
    for (;;) {
      const next = await it.next();
      if (next.done) return undefined;
      if (next.value.length > 0) return new Listing(next.value, it);
    }
  }

  /** The pages, once: each later page is counted as it is handed out; the listing is complete after the last. */
  async *pages(): AsyncGenerator<ObjectInfo[]> {
    if (this.taken) throw new Error('a listing is handed out once');
    this.taken = true;
    const first = this.first;
    this.first = [];
    yield first;
    if (!this.rest) return;
    try {
      for (;;) {
        const next = await this.rest.next();
        if (next.done) break;
        this.count(next.value);
        yield next.value;
      }
      this.complete = true;
    } finally {
      // A consumer that stops early (a failed load, a cancel) stops the store's listing too.
      if (!this.complete) await this.rest.return?.();
    }
  }

  /** Stops the store's listing when a run ends before it took the pages (its target failed, say). */
  async close(): Promise<void> {
    if (!this.taken && !this.complete) await this.rest?.return?.();
  }

  /** Every object, collected (mode "merge" orders them all before loading any). */
  async all(): Promise<ObjectInfo[]> {
    return listAll(this.pages());
  }

  private count(page: ObjectInfo[]): void {
    this.listed += page.length;
    for (const o of page) this.bytes += o.size;
  }
}

/** Every object of a paged listing, collected (tests, and listings that must be whole). */
export async function listAll(pages: AsyncIterable<ObjectInfo[]>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const page of pages) out.push(...page);
  return out;
}

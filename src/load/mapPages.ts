// Runs an async function over the items of a paged source (a listing) with at most `limit` at once,
// asking for the next page as soon as the current one is taken: the listing of page n+1 overlaps the
// work on page n, and no more than two pages (the one being taken and the one ahead) plus the `limit`
// running items are held. After the first failure (of an item, or of a page, as soon as it fails) no
// new item starts; the running ones are awaited, the source is stopped, then the first error is thrown.

export async function mapPages<T>(pages: AsyncIterable<T[]>, limit: number, signal: AbortSignal, fn: (item: T) => Promise<void>): Promise<void> {
  const it = pages[Symbol.asyncIterator]();
  let ahead: Promise<IteratorResult<T[]>> | undefined = it.next();
  let page: Array<T | undefined> = [];
  let index = 0;
  let failure: { err: unknown } | undefined;

  /** The next item, taking the page ahead (and asking for the one after it) when this one is used up. */
  const nextItem = async (): Promise<{ item: T } | undefined> => {
    while (index >= page.length) {
      if (!ahead) return undefined;
      const next = await ahead;
      if (next.done) {
        ahead = undefined;
        return undefined;
      }
      page = next.value;
      index = 0;
      ahead = it.next();
      // A page that fails stops new items at once, not once the lanes reach it.
      ahead.catch((err: unknown) => {
        failure ??= { err };
      });
    }
    const item = page[index] as T;
    // Let a started item go with its lane, not with the page.
    page[index++] = undefined;
    return { item };
  };
  // Lanes take items one after another, so two never await the same page.
  let queue: Promise<unknown> = Promise.resolve();
  const take = (): Promise<{ item: T } | undefined> => {
    const next = queue.then(nextItem);
    queue = next.catch(() => {});
    return next;
  };

  const lane = async (): Promise<void> => {
    while (!failure && !signal.aborted) {
      let next: { item: T } | undefined;
      try {
        next = await take();
      } catch (err) {
        failure ??= { err };
        return;
      }
      if (!next || failure) return;
      try {
        await fn(next.item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, lane));
  if (ahead) {
    // Stopped early: let the page in flight settle, then stop the source.
    await ahead.catch(() => {});
    await it.return?.().catch(() => {});
  }
  if (failure) throw failure.err;
  if (signal.aborted) throw signal.reason;
}

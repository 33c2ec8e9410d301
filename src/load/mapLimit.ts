// Runs an async function over items with at most `limit` at once. After the first failure no new item
// starts; the running ones are awaited, then the first error is thrown. The items are one page for
// mapPages, which runs the lanes.
import { mapPages } from './mapPages.js';

export async function mapLimit<T, R>(items: readonly T[], limit: number, signal: AbortSignal, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  async function* onePage(): AsyncGenerator<Array<{ item: T; i: number }>> {
    yield items.map((item, i) => ({ item, i }));
  }
  await mapPages(onePage(), Math.min(limit, items.length), signal, async ({ item, i }) => {
    results[i] = await fn(item);
  });
  return results;
}

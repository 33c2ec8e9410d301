// mapPages runs a listing's items as its pages arrive: the next page is asked for while the current one
// runs, no more than two pages plus the running items are held, and a page that fails stops the run.
import t from 'tap';
import { mapPages } from '../src/load/mapPages.js';
import { Listing } from '../src/sources/listing.js';
import type { ObjectInfo } from '../src/sources/source.js';

const PAGE = 100;
const PAGES = 10;
const LIMIT = 4;

/** A paged source that logs what happens, in order: page requests, item starts and ends. */
function pagedSource(log: string[], opts: { failAt?: number } = {}) {
  const state = { returned: false };
  async function* pages(): AsyncGenerator<number[]> {
    try {
      for (let p = 0; p < PAGES; p++) {
        log.push(`page ${p}`);
        await new Promise((r) => setImmediate(r));
        if (p === opts.failAt) throw new Error(`page ${p} failed`);
        yield Array.from({ length: PAGE }, (_, i) => p * PAGE + i);
      }
    } finally {
      state.returned = true;
    }
  }
  return { pages: pages(), state };
}

t.test('items run in listed order while later pages are listed, holding at most two pages plus the running items', async (t) => {
  const log: string[] = [];
  const { pages, state } = pagedSource(log);
  let started = 0;
  let finished = 0;
  let maxHeld = 0;
  let requested = 0;
  await mapPages(pages, LIMIT, new AbortController().signal, async (item) => {
    log.push(`start ${item}`);
    started += 1;
    requested = log.filter((l) => l.startsWith('page')).length;
    // Items listed and not finished: everything the pages handed out so far, less what is done.
    maxHeld = Math.max(maxHeld, requested * PAGE - finished);
    await new Promise((r) => setTimeout(r, 0));
    finished += 1;
  });
  t.equal(started, PAGE * PAGES, 'every item once');
  t.same(log.filter((l) => l.startsWith('start')).map((l) => Number(l.slice(6))), Array.from({ length: PAGE * PAGES }, (_, i) => i), 'in listed order');
  t.ok(log.indexOf('start 0') < log.indexOf('page 2'), 'the first item started before the third page was asked for');
  for (let p = 0; p + 2 < PAGES; p++) {
    t.ok(log.indexOf(`page ${p + 2}`) > log.indexOf(`start ${p * PAGE + PAGE - 1}`), `page ${p + 2} is asked for only once page ${p}'s items have all started`);
  }
  t.ok(maxHeld <= 2 * PAGE + LIMIT, `held at most ${maxHeld} items (bound ${2 * PAGE + LIMIT})`);
  t.ok(state.returned, 'the source finished');
});

t.test('a page that fails: no item of it or after it runs, running items finish, the source is stopped, its error is thrown', async (t) => {
  const log: string[] = [];
  const { pages, state } = pagedSource(log, { failAt: 3 });
  const done: number[] = [];
  await t.rejects(
    mapPages(pages, LIMIT, new AbortController().signal, async (item) => {
      await new Promise((r) => setTimeout(r, 1));
      done.push(item);
    }),
    { message: 'page 3 failed' },
  );
  t.ok(done.length > 0, `${done.length} items ran before the failure`);
  t.ok(done.every((i) => i < 3 * PAGE), 'none from the failed page or after it');
  t.notOk(log.includes('page 4'), 'no page asked for after the failure');
  t.ok(state.returned, 'the source was closed');
});

t.test('a cancel stops the items and the listing', async (t) => {
  const log: string[] = [];
  const { pages, state } = pagedSource(log);
  const controller = new AbortController();
  let ran = 0;
  await t.rejects(
    mapPages(pages, LIMIT, controller.signal, async () => {
      ran += 1;
      if (ran === 150) controller.abort(new Error('cancelled'));
      await new Promise((r) => setTimeout(r, 0));
    }),
    { message: 'cancelled' },
  );
  t.ok(ran < 150 + LIMIT, `${ran} items ran, none after the cancel but those already taken`);
  t.ok(log.filter((l) => l.startsWith('page')).length <= 3, 'the listing went no further than a page ahead');
  t.ok(state.returned, 'the source was closed');
});

t.test('a streamed Listing waits for the first page holding an object, counts pages as they go, and is complete after the last', async (t) => {
  const info = (key: string, size: number): ObjectInfo => ({ scheme: 's3', container: 'b', key, size, version: 'v', contentEncoding: undefined });
  async function* pages(): AsyncGenerator<ObjectInfo[]> {
    yield [];
    yield [info('a', 1), info('b', 2)];
    yield [];
    yield [info('c', 4)];
  }
  const listing = (await Listing.streamed(pages()))!;
  t.same({ listed: listing.listed, bytes: listing.bytes, complete: listing.complete }, { listed: 2, bytes: 3, complete: false }, 'the first page with objects');
  const keys: string[] = [];
  for await (const page of listing.pages()) keys.push(...page.map((o) => o.key));
  t.same(keys, ['a', 'b', 'c']);
  t.same({ listed: listing.listed, bytes: listing.bytes, complete: listing.complete }, { listed: 3, bytes: 7, complete: true }, 'the totals');
  async function* empty(): AsyncGenerator<ObjectInfo[]> {
    yield [];
  }
  t.equal(await Listing.streamed(empty()), undefined, 'no object at all');
  t.equal(Listing.collected([info('x', 5)]).complete, true, 'a collected listing is complete from the start');
  let stopped = false;
  async function* endless(): AsyncGenerator<ObjectInfo[]> {
    try {
      for (let i = 0; ; i++) yield [info(`k${i}`, 1)];
    } finally {
      stopped = true;
    }
  }
  await (await Listing.streamed(endless()))!.close();
  t.ok(stopped, 'a listing closed before its pages were taken stops the source');
});

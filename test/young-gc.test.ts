// The loader collects V8's young generation every COLLECT_EVERY bytes read (src/handbuilt/youngGc.ts) in
// a process started with --expose-gc, and a worker collects start-up's garbage once; CITUS_INGEST_PLAIN=gc
// turns both off. The test runner passes no such flag: the test makes `gc` as the flag would.
import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import t from 'tap';
import { setPlainParts } from '../src/handbuilt/switches.js';
import { COLLECT_EVERY, collectStartupGarbage, noteBytesRead } from '../src/handbuilt/youngGc.js';

v8.setFlagsFromString('--expose-gc');
(globalThis as { gc?: unknown }).gc = vm.runInNewContext('gc');

/** Young-generation collections seen while `fn` runs (and 200 ms after). */
async function minorCollections(fn: () => void): Promise<number> {
  let minor = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
  });
  observer.observe({ entryTypes: ['gc'] });
  fn();
  await new Promise((r) => setTimeout(r, 200));
  observer.disconnect();
  return minor;
}

t.test('every COLLECT_EVERY bytes read is one young-generation collection; none with gc turned off', async (t) => {
  // 40 thresholds' worth in pieces of a socket read's size; this loop allocates next to nothing itself.
  const piece = 64 * 1024;
  const read40 = (): void => {
    for (let read = 0; read < 40 * COLLECT_EVERY; read += piece) noteBytesRead(piece);
  };
  const minor = await minorCollections(read40);
  t.ok(minor >= 40, `${minor} young-generation collections for ${40 * COLLECT_EVERY} bytes`);
  t.ok(minor < 60, 'not one per read');
  setPlainParts('gc');
  t.teardown(() => setPlainParts(''));
  const off = await minorCollections(read40);
  t.ok(off < 10, `with CITUS_INGEST_PLAIN=gc, ${off} (V8's own)`);
});

t.test('collectStartupGarbage is one full collection: it frees garbage the young collections cannot', async (t) => {
  let major = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++;
  });
  observer.observe({ entryTypes: ['gc'] });
  t.teardown(() => observer.disconnect());
  // About 24 MB of objects held across two young collections, which moves them to the old generation.
  let held: Array<{ n: number; s: string }> | undefined = Array.from({ length: 300_000 }, (_, n) => ({ n, s: `row ${n}` }));
  noteBytesRead(COLLECT_EVERY);
  noteBytesRead(COLLECT_EVERY);
  t.equal(held.length, 300_000);
  held = undefined;
  noteBytesRead(COLLECT_EVERY); // a young collection: the old generation keeps them
  const before = v8.getHeapStatistics().used_heap_size;
  collectStartupGarbage();
  const after = v8.getHeapStatistics().used_heap_size;
  await new Promise((r) => setTimeout(r, 100));
  t.ok(before - after > 10 * 2 ** 20, `the heap went from ${(before / 2 ** 20).toFixed(1)} to ${(after / 2 ** 20).toFixed(1)} MB`);
  t.ok(major >= 1, `${major} full collection(s) seen`);
});

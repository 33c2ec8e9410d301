// The loader collects V8's young generation every COLLECT_EVERY bytes read (src/load/youngGc.ts), in a
// process started without --expose-gc too (the test runner passes no such flag).
import { constants, PerformanceObserver } from 'node:perf_hooks';
import t from 'tap';
import { COLLECT_EVERY, noteBytesRead } from '../src/load/youngGc.js';

t.test('every COLLECT_EVERY bytes read is one young-generation collection', async (t) => {
  t.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'gc is not exposed by the command line');
  let minor = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
  });
  observer.observe({ entryTypes: ['gc'] });
  t.teardown(() => observer.disconnect());
  // 40 thresholds' worth in pieces of a socket read's size; this loop allocates next to nothing itself.
  const piece = 64 * 1024;
  for (let read = 0; read < 40 * COLLECT_EVERY; read += piece) noteBytesRead(piece);
  await new Promise((r) => setTimeout(r, 200));
  t.ok(minor >= 40, `${minor} young-generation collections for ${40 * COLLECT_EVERY} bytes`);
  t.ok(minor < 60, 'not one per read');
});

import t from 'tap';
import { Semaphore } from '../src/load/semaphore.js';

t.test('a semaphore hands out at most its size, in order, and an aborted waiter leaves the queue', async (t) => {
  const s = new Semaphore(2);
  await s.acquire();
  await s.acquire();
  t.equal(s.inUse, 2);
  const order: string[] = [];
  const a = s.acquire().then(() => order.push('a'));
  const controller = new AbortController();
  const b = s.acquire(controller.signal).then(() => order.push('b'), () => order.push('b aborted'));
  const c = s.acquire().then(() => order.push('c'));
  controller.abort(new Error('stop'));
  await b;
  s.release();
  await a;
  s.release();
  await c;
  t.same(order, ['b aborted', 'a', 'c']);
  t.equal(s.inUse, 2);
  s.release();
  s.release();
  t.equal(s.inUse, 0);
});

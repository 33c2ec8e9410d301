// A bounded hand-off between one producer and several consumers: put() waits while the queue is full,
// take() waits while it is empty, and returns undefined once the producer has closed it.

export class AsyncQueue<T> {
  private readonly items: T[] = [];
  private readonly takers: Array<(item: T | undefined) => void> = [];
  private readonly putters: Array<() => void> = [];
  private closed = false;
  private failure: unknown;

  constructor(private readonly capacity: number) {}

  async put(item: T): Promise<void> {
    while (this.items.length >= this.capacity && this.takers.length === 0) {
      if (this.failure !== undefined) throw this.failure;
      await new Promise<void>((resolve) => this.putters.push(resolve));
    }
    if (this.failure !== undefined) throw this.failure;
    const taker = this.takers.shift();
    if (taker) taker(item);
    else this.items.push(item);
  }

  async take(): Promise<T | undefined> {
    const item = this.items.shift();
    if (item !== undefined) {
      this.putters.shift()?.();
      return item;
    }
    if (this.closed) return undefined;
    return new Promise((resolve) => this.takers.push(resolve));
  }

  /** The consumers gave up: waiting and future puts throw `err`, takers get undefined. */
  fail(err: unknown): void {
    this.failure = err;
    this.items.length = 0;
    for (const putter of this.putters.splice(0)) putter();
    this.close();
  }

  /** No more items: waiting and future takers get undefined once the queue is drained. */
  close(): void {
    this.closed = true;
    for (const taker of this.takers.splice(0)) taker(undefined);
  }
}

// The one timeout race of the codebase: a promise, or the error `onTimeout` makes once `ms` have passed.
// The timer never keeps the process alive and is cleared as soon as the promise settles.

export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref();
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

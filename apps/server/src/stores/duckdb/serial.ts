/**
 * A DuckDB connection runs one statement at a time; concurrent calls from
 * different requests must queue rather than interleave (an explicit transaction
 * on a shared connection would otherwise swallow another request's statements).
 */
export function createSerialQueue() {
  let tail: Promise<unknown> = Promise.resolve();
  return function run<T>(job: () => Promise<T>): Promise<T> {
    const next = tail.then(job, job);
    tail = next.catch(() => undefined);
    return next;
  };
}

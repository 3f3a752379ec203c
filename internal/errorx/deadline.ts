/**
 * `work`'s result, or the error `onTimeout()` makes once `ms` have passed, whichever comes first; the
 * timer is cleared as soon as `work` settles. A result that arrives after the deadline is handed to
 * `late` (a pool connection that came after its caller gave up goes back to the pool); a late failure
 * is dropped.
 */
export function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => Error,
  late?: (value: T) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      reject(onTimeout());
    }, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        if (timedOut) late?.(value);
        else resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (!timedOut) reject(err);
      },
    );
  });
}

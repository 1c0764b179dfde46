/** Marks a time-boxed call that did not finish in time. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/** Resolves to the promise's value, or `TIMED_OUT` after `ms`; a rejection resolves to the error. */
export function timeBox<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT | Error> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(TIMED_OUT), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        resolve(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

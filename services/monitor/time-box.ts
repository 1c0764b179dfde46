import { fail, ok, type Result } from '../../machines/result.js';

/** Why a time-boxed call gave no value: it did not finish in time, or it failed. */
export type TimeBoxFailure = { kind: 'timeout' } | { kind: 'failed'; message: string };

/** Resolves to the promise's value, or to a timeout after `ms`; a rejection resolves to a failure with its message. */
export function timeBox<T>(promise: Promise<T>, ms: number): Promise<Result<T, TimeBoxFailure>> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fail({ kind: 'timeout' })), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(ok(value));
      },
      (error: unknown) => {
        clearTimeout(timer);
        resolve(fail({ kind: 'failed', message: error instanceof Error ? error.message : String(error) }));
      },
    );
  });
}

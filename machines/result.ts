/**
 * What a fallible operation resolves to where failing is an answer, not an exception: the value, or why not.
 * Pure and free of I/O, so that machines and services share it; a failure a machine reasons about is tagged by `kind`.
 */
export type Result<T, E> = Success<T> | Failure<E>;

export type Success<T> = { ok: true; value: T };

export type Failure<E> = { ok: false; error: E };

export const ok = <T>(value: T): Success<T> => ({ ok: true, value });

export const fail = <E>(error: E): Failure<E> => ({ ok: false, error });

/**
 * What a fallible operation resolves to where failing is an answer, not an exception: the value, or why not.
 * Pure and free of I/O, so that machines and services share it; a failure a machine reasons about is tagged by `kind`.
 */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });

export const fail = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });

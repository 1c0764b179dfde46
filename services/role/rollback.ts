import type { Logger } from '../logger.js';

/** Starts one part of a role; when a later part fails, what it returned is stopped again. */
export type StartStep = <T>(start: () => Promise<T> | T, stop: (started: T) => unknown) => Promise<T>;

export interface RollbackOptions {
  /** Where a part that fails to stop during the rollback is reported: the start's own failure stays the error. */
  logger: Logger;
  /** Aborted (SIGTERM while starting): no further part starts, and those started are stopped. */
  signal?: AbortSignal | undefined;
}

/**
 * Builds a role from parts started one after the other: if any part fails to start, or the signal aborts between
 * two parts, the parts already started are stopped, last first, and the failure is thrown on.
 */
export async function startWithRollback<R>(
  build: (step: StartStep) => Promise<R>,
  options: RollbackOptions,
): Promise<R> {
  const undo: (() => unknown)[] = [];
  const step: StartStep = async (start, stop) => {
    options.signal?.throwIfAborted();
    const started = await start();
    undo.unshift(() => stop(started));
    options.signal?.throwIfAborted();
    return started;
  };
  try {
    return await build(step);
  } catch (error) {
    for (const stopOne of undo) {
      try {
        await stopOne();
      } catch (undoError) {
        options.logger.error('a started part failed to stop while undoing a failed start', { error: undoError });
      }
    }
    throw error;
  }
}

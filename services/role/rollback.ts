/** Starts one part of a role; when a later part fails, what it returned is stopped again. */
export type StartStep = <T>(start: () => Promise<T> | T, stop: (started: T) => unknown) => Promise<T>;

/**
 * Builds a role from parts started one after the other: if any part fails to start, the parts already started
 * are stopped, last first, and the failure is thrown on.
 */
export async function startWithRollback<R>(build: (step: StartStep) => Promise<R>): Promise<R> {
  const undo: (() => unknown)[] = [];
  const step: StartStep = async (start, stop) => {
    const started = await start();
    undo.unshift(() => stop(started));
    return started;
  };
  try {
    return await build(step);
  } catch (error) {
    for (const stopOne of undo) await stopOne();
    throw error;
  }
}

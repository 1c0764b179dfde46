import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { createLogger, type Logger, type LogLevel } from '../logger.js';
import { type CliContext, OptionError } from '../options/index.js';
import { StateStoreError } from '../store/state-store.js';

/** What a role's entry point needs of its process; `process` itself, or a stand-in in tests. */
export interface RoleProcess {
  once(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  off(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  exit(code: number): void;
  stderr: { write(text: string): unknown };
}

export interface RoleRun {
  /** `queen`, `hive` or `worker`: the subject of the role's log lines. */
  role: string;
  /** The command's name, which starts a message to the operator. */
  command: string;
  /** Starts the role; `signal` aborts on SIGTERM or SIGINT while it starts, and the start then rolls back. */
  start(signal: AbortSignal): Promise<{ stop(): Promise<void> }>;
  /** After a signal the process exits by then, even if starting or stopping hangs. */
  exitDeadlineMs: number;
  logger: Logger;
  process?: RoleProcess;
}

/**
 * A role's process from start to exit: starts it (a bad option is exit 2 naming it, an unusable state directory
 * exit 1 in one line, any other failure exit 1 with the error logged), then on SIGTERM or SIGINT stops it and
 * exits 0, or 1 at the deadline if stopping hangs. A signal while it starts rolls the start back and exits 0.
 */
export async function runRole(run: RoleRun): Promise<void> {
  const host = run.process ?? process;
  const stopping = new AbortController();
  let role: { stop(): Promise<void> } | null = null;
  const stop = (started: { stop(): Promise<void> }): void => {
    started.stop().then(
      () => host.exit(0),
      (error: unknown) => {
        run.logger.error(`${run.role} failed to stop`, { error });
        host.exit(1);
      },
    );
  };
  const shutdown = (signal: string): void => {
    if (stopping.signal.aborted) return;
    run.logger.info(`${run.role} stopping`, { signal });
    setTimeout(() => {
      // Parts may still be running (a worker's engine): a failure the supervisor must see, not a clean stop.
      run.logger.error(`${run.role} did not stop within ${run.exitDeadlineMs} ms`);
      host.exit(1);
    }, run.exitDeadlineMs).unref();
    stopping.abort();
    if (role !== null) stop(role);
  };
  const onSigterm = (): void => shutdown('SIGTERM');
  const onSigint = (): void => shutdown('SIGINT');
  // Listening from the first moment: a signal while starting must not kill the process with parts half up.
  host.once('SIGTERM', onSigterm);
  host.once('SIGINT', onSigint);
  let started: { stop(): Promise<void> };
  try {
    started = await run.start(stopping.signal);
  } catch (error) {
    if (stopping.signal.aborted) {
      run.logger.info(`${run.role} stopped while starting`);
      host.exit(0);
      return;
    }
    host.off('SIGTERM', onSigterm);
    host.off('SIGINT', onSigint);
    if (error instanceof OptionError || error instanceof StateStoreError) {
      host.stderr.write(`${run.command}: ${error.message}\n`);
    } else {
      run.logger.error(`${run.role} failed to start`, { error });
    }
    host.exit(error instanceof OptionError ? 2 : 1);
    return;
  }
  role = started;
  if (stopping.signal.aborted) stop(started);
}

/** A role as its command runs it: how its options are read, and how it starts and how long it may take to stop. */
export interface RoleCommand<O extends { logLevel: LogLevel }> {
  role: string;
  command: string;
  /** The first line of `--help`. */
  summary: string;
  /** The role's options from the command line: `--help` exits 0, a bad flag exits 2 naming it. */
  parse(cli: CliContext): O;
  start(options: O, logger: Logger, signal: AbortSignal): Promise<{ stop(): Promise<void> }>;
  exitDeadlineMs(options: O): number;
}

/** A role's entry point: its options, its logger at the chosen level, then the role from start to exit. */
export function runCommand<O extends { logLevel: LogLevel }>(command: RoleCommand<O>): void {
  const options = command.parse({ command: command.command, summary: command.summary });
  const logger = createLogger({ level: options.logLevel });
  void runRole({
    role: command.role,
    command: command.command,
    start: (signal) => command.start(options, logger, signal),
    exitDeadlineMs: command.exitDeadlineMs(options),
    logger,
  });
}

/** True when the module at `moduleUrl` is the script node was started with (not imported by a test or another role). */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && moduleUrl === pathToFileURL(realpathSync(script)).href;
}

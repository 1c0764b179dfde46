import { type Actor, createActor, fromCallback, type InspectionEvent } from 'xstate';
import { cutText, LIMITS } from '../../contracts/common.js';
import { type EnginePlaceholder, type EngineSpec, fillPlaceholders } from '../../contracts/engine.js';
import { type EngineEmitted, type EngineEvent, engineMachine, type HealthWatchInput } from '../../machines/engine.js';
import type { Watchdog } from '../cluster/watchdog-client.js';
import { defined } from '../defined.js';
import type { Logger } from '../logger.js';
import type { Timers } from '../timers.js';
import type { EngineReport } from '../worker/heartbeat-payload.js';
import { type HealthWatchOptions, watchHealth } from './engine-health.js';
import { startEngineProcess } from './engine-process.js';
import { createServingStatsReader, type ServingStats } from './serving-stats.js';

export interface EngineSupervisorOptions {
  spec: EngineSpec;
  /** The placeholders' values; `engine_port` is where the engine must listen. */
  values: Readonly<Record<EnginePlaceholder, string>>;
  backoffMs: readonly number[];
  maxFailures: number;
  /** SIGTERM, then SIGKILL after this long (10 s in production). */
  stopTimeoutMs: number;
  health: Omit<HealthWatchOptions, 'url'>;
  /** How often serving numbers are read while the engine serves. */
  statsIntervalMs: number;
  /** Takes every engine down should the worker die without stopping them (SIGKILL); released by `stop`. */
  watchdog: Watchdog;
  logger: Logger;
  inspect?: ((event: InspectionEvent) => void) | undefined;
  clock?: Timers;
}

export interface EngineSupervisor {
  /** Where the engine listens, for the worker's proxy. */
  readonly base: string;
  start(): void;
  /** Stops the engine (SIGTERM, SIGKILL after the stop timeout) and resolves once no engine process is left. */
  stop(): Promise<void>;
  /** The heartbeat's engine fields now. */
  report(): EngineReport;
  /** `up` when the engine became healthy, `down` when it failed (exit, health, ready timeout, gave up). */
  on(listener: (event: EngineEmitted) => void): void;
  readonly actor: Actor<typeof engineMachine>;
}

/** Hosts the engine machine: provides its process and health actors, and reads serving numbers while it serves. */
export function createEngineSupervisor(options: EngineSupervisorOptions): EngineSupervisor {
  const { spec, values, logger } = options;
  const base = `http://127.0.0.1:${values.engine_port}`;
  const command = spec.command.map((part) => fillPlaceholders(part, values));
  const env = Object.fromEntries(
    Object.entries(spec.env).map(([name, value]) => [name, fillPlaceholders(value, values)]),
  );
  /** Engine processes not yet confirmed gone: stop() waits for every one. */
  const exiting = new Set<Promise<void>>();
  const reader = createServingStatsReader(spec.engine, base);
  let stats: ServingStats = {};

  const machine = engineMachine.provide({
    actors: {
      process: fromCallback<EngineEvent>(({ sendBack }) => {
        let live = true;
        const engine = startEngineProcess({
          command,
          env,
          stopTimeoutMs: options.stopTimeoutMs,
          guard: (group) => options.watchdog.guard(group),
          forget: (group) => options.watchdog.forget(group),
          onExit: ({ code, signal, lastLine }) => {
            if (live) sendBack({ type: 'ENGINE_EXITED', code, signal, detail: lastLine });
          },
        });
        logger.info('engine started', { pid: engine.pid, command: command[0], port: values.engine_port });
        return () => {
          live = false;
          const stopped = engine.stop();
          exiting.add(stopped);
          void stopped.finally(() => exiting.delete(stopped));
        };
      }),
      health: fromCallback<EngineEvent, HealthWatchInput>(({ sendBack, input }) =>
        watchHealth({ ...options.health, url: `${base}${spec.health_path}` }, input, sendBack),
      ),
    },
  });
  const actor = createActor(machine, {
    systemId: 'engine',
    input: { readyTimeoutMs: spec.ready_timeout, backoffMs: options.backoffMs, maxFailures: options.maxFailures },
    ...defined({ inspect: options.inspect, clock: options.clock }),
  });
  actor.on('down', ({ lastError }) => {
    stats = {};
    logger.warn('engine down', { last_error: lastError, restarts: actor.getSnapshot().context.restarts });
  });
  actor.on('up', () => logger.info('engine ready', { restarts: actor.getSnapshot().context.restarts }));

  let statsTimer: ReturnType<typeof setTimeout> | undefined;
  const statsController = new AbortController();
  const readStats = async (): Promise<void> => {
    if (actor.getSnapshot().matches({ RUNNING: 'SERVING' })) {
      const read = await reader.read(
        AbortSignal.any([statsController.signal, AbortSignal.timeout(options.statsIntervalMs)]),
      );
      if (actor.getSnapshot().matches({ RUNNING: 'SERVING' })) stats = read;
    }
    if (!statsController.signal.aborted) statsTimer = setTimeout(() => void readStats(), options.statsIntervalMs);
  };

  return {
    base,
    actor,
    start() {
      actor.start();
      void readStats();
    },
    async stop() {
      statsController.abort();
      clearTimeout(statsTimer);
      actor.send({ type: 'STOP' });
      actor.stop();
      await Promise.all(exiting);
      options.watchdog.release();
    },
    report() {
      const { restarts, lastError } = actor.getSnapshot().context;
      return {
        engine: spec.engine,
        restarts,
        ...(lastError ? { last_error: cutText(lastError, LIMITS.lastErrorLength) } : {}),
        ...stats,
      };
    },
    on(listener) {
      actor.on('*', listener);
    },
  };
}

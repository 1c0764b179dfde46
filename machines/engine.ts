import { assign, emit, fromCallback, setup } from 'xstate';

/**
 * An engine's life under its worker (llama-server, vLLM, ...): STARTING (running, health not yet 200, for at most
 * the ready timeout) → SERVING (healthy) → FAILED when it exits or its health fails → a restart after the backoff →
 * GAVE_UP after `maxFailures` failures in a row. The process and the health watch are actors the host provides, so
 * the same machine runs on a simulated clock in tests. Ready ⇄ busy is the worker-status machine's (requests in
 * flight); this one tells it when the engine is up (`up`) or down (`down`).
 */

export interface EngineInput {
  readyTimeoutMs: number;
  /** Delay before restart k (the last entry repeats). */
  backoffMs: readonly number[];
  maxFailures: number;
}

export interface EngineContext extends EngineInput {
  /** Failures since the engine last became healthy. */
  failures: number;
  /** Restarts since the worker started. */
  restarts: number;
  lastError: string | null;
}

export type EngineEvent =
  /** From the process actor: the engine exited. */
  | { type: 'ENGINE_EXITED'; code: number | null; signal: string | null; detail: string | null }
  /** From the health actor. */
  | { type: 'ENGINE_HEALTHY' }
  | { type: 'ENGINE_UNHEALTHY'; reason: string }
  | { type: 'STOP' };

export type EngineEmitted = { type: 'up' } | { type: 'down'; lastError: string };

/** What the health actor is asked to watch for: the first 200, or the first failure after that. */
export interface HealthWatchInput {
  phase: 'starting' | 'serving';
}

export const engineMachine = setup({
  types: {
    context: {} as EngineContext,
    events: {} as EngineEvent,
    input: {} as EngineInput,
    emitted: {} as EngineEmitted,
  },
  actors: {
    // Replaced by the host: spawns the engine, sends ENGINE_EXITED, kills it (SIGTERM, then SIGKILL) on cleanup.
    process: fromCallback<EngineEvent>(() => undefined),
    // Replaced by the host: polls the health path, sends ENGINE_HEALTHY / ENGINE_UNHEALTHY.
    health: fromCallback<EngineEvent, HealthWatchInput>(() => undefined),
  },
  delays: {
    readyTimeout: ({ context }) => context.readyTimeoutMs,
    backoff: ({ context }) => context.backoffMs[Math.min(context.failures - 1, context.backoffMs.length - 1)] ?? 0,
  },
  guards: {
    exhausted: ({ context }) => context.failures >= context.maxFailures,
  },
  actions: {
    exited: assign({
      lastError: ({ event }) =>
        event.type === 'ENGINE_EXITED'
          ? `engine exited (${event.signal ?? `code ${event.code ?? 'unknown'}`})${event.detail ? `: ${event.detail}` : ''}`
          : 'engine exited',
    }),
    unhealthy: assign({
      lastError: ({ event }) => `health check failed: ${event.type === 'ENGINE_UNHEALTHY' ? event.reason : 'unknown'}`,
    }),
    notReady: assign({
      lastError: ({ context }) => `not healthy within the ready timeout (${context.readyTimeoutMs} ms)`,
    }),
    countFailure: assign({ failures: ({ context }) => context.failures + 1 }),
    countRestart: assign({ restarts: ({ context }) => context.restarts + 1 }),
    healthy: assign({ failures: 0, lastError: null }),
    up: emit({ type: 'up' }),
    down: emit(({ context }) => ({ type: 'down', lastError: context.lastError ?? 'engine failed' })),
    gaveUp: assign({
      lastError: ({ context }) => `gave up after ${context.failures} failures in a row: ${context.lastError ?? ''}`,
    }),
  },
}).createMachine({
  id: 'engine',
  context: ({ input }) => ({ ...input, failures: 0, restarts: 0, lastError: null }),
  initial: 'RUNNING',
  on: { STOP: '.STOPPED' },
  states: {
    RUNNING: {
      invoke: { src: 'process' },
      on: { ENGINE_EXITED: { target: 'FAILED', actions: 'exited' } },
      initial: 'STARTING',
      states: {
        STARTING: {
          invoke: { src: 'health', input: { phase: 'starting' } },
          on: { ENGINE_HEALTHY: { target: 'SERVING', actions: 'healthy' } },
          after: { readyTimeout: { target: '#engine.FAILED', actions: 'notReady' } },
        },
        SERVING: {
          entry: 'up',
          invoke: { src: 'health', input: { phase: 'serving' } },
          on: { ENGINE_UNHEALTHY: { target: '#engine.FAILED', actions: 'unhealthy' } },
        },
      },
    },
    FAILED: {
      entry: ['countFailure', 'down'],
      always: { guard: 'exhausted', target: 'GAVE_UP' },
      after: { backoff: { target: 'RUNNING', actions: 'countRestart' } },
    },
    GAVE_UP: { entry: ['gaveUp', 'down'], on: { STOP: 'STOPPED' } },
    STOPPED: { type: 'final' },
  },
});

export type EngineMachine = typeof engineMachine;

import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from 'xstate';
import type { Watchdog } from '../../../services/cluster/watchdog-client.js';
import { placeholderValues } from '../../../services/engine/engine-option.js';
import { createEngineSupervisor, type EngineSupervisor } from '../../../services/engine/supervisor.js';
import { silentLogger } from '../../../services/logger.js';
import { freePort } from '../../../services/ports.js';

/** The supervisor over real engine processes that crash at once: restarted with the backoff, then given up. */

const MAX_FAILURES = 3;

let supervisor: EngineSupervisor | undefined;
afterEach(async () => {
  await supervisor?.stop();
  supervisor = undefined;
});

function recordingWatchdog(): Watchdog & { guarded: number[]; forgotten: number[]; released: () => boolean } {
  const guarded: number[] = [];
  const forgotten: number[] = [];
  let released = false;
  return {
    guarded,
    forgotten,
    released: () => released,
    guard: (group) => guarded.push(group),
    forget: (group) => forgotten.push(group),
    removeOnDeath: () => {},
    release: () => {
      released = true;
    },
  };
}

describe('engine supervisor', () => {
  it('restarts a crashing engine and gives up after --max-failures failures in a row, saying why', async () => {
    const watchdog = recordingWatchdog();
    const crash = 'echo "CUDA error: out of memory" >&2; exit 1';
    supervisor = createEngineSupervisor({
      spec: {
        engine: 'llama.cpp',
        command: ['sh', '-c', crash],
        env: {},
        health_path: '/health',
        ready_timeout: 60_000,
      },
      values: placeholderValues({
        modelPath: 'm.gguf',
        modelId: 'm',
        enginePort: await freePort('127.0.0.1'),
        device: 'CPU-0',
      }),
      backoffMs: [0, 10, 10],
      maxFailures: MAX_FAILURES,
      stopTimeoutMs: 1_000,
      health: { startingIntervalMs: 50, servingIntervalMs: 50, timeoutMs: 500, failuresToFail: 2 },
      statsIntervalMs: 1_000,
      watchdog,
      logger: silentLogger,
    });
    const downs: string[] = [];
    supervisor.on((event) => {
      if (event.type === 'down') downs.push(event.lastError);
    });
    supervisor.start();

    await waitFor(supervisor.actor, (snapshot) => snapshot.matches('GAVE_UP'), { timeout: 30_000 });
    const report = supervisor.report();
    expect(report.restarts).toBe(MAX_FAILURES - 1);
    expect(report.last_error).toMatch(
      new RegExp(`^gave up after ${MAX_FAILURES} failures in a row: .*CUDA error: out of memory`),
    );
    expect(downs).toHaveLength(MAX_FAILURES + 1);
    // Every engine started was handed to the watchdog, and forgotten once gone (its pid may be reused); a stop lets it go.
    expect(watchdog.guarded).toHaveLength(MAX_FAILURES);
    expect(watchdog.released()).toBe(false);
    await supervisor.stop();
    expect(watchdog.forgotten).toEqual(watchdog.guarded);
    expect(watchdog.released()).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { type AnyMachineSnapshot, createActor, type EventObject, type InspectionEvent } from 'xstate';
import { type EngineContext, type EngineEvent, engineMachine } from '../../machines/engine.js';
import { type ModelPath, modelPaths, timerEvents } from '../support/model-paths.js';
import { SteppingClock, settle } from '../support/stepping-clock.js';
import { createCoverage, missedBy } from '../support/transition-coverage.js';

/**
 * Model-based test of the engine machine: xstate/graph walks it over what the process and health actors report, STOP,
 * and its timers (ready timeout, backoff); every path is replayed on a real actor on a SteppingClock, checking that
 * every failure is reported with a reason and that restarts count the backoffs taken.
 */

// No zero backoff here: a timer due at the very moment another fires would fire in the same step, hiding FAILED.
const INPUT = { readyTimeoutMs: 5_000, backoffMs: [1_000, 2_000, 4_000], maxFailures: 3 };
const actorEvents: EngineEvent[] = [
  { type: 'ENGINE_EXITED', code: 1, signal: null, detail: 'boom' },
  { type: 'ENGINE_HEALTHY' },
  { type: 'ENGINE_UNHEALTHY', reason: 'status 500' },
  { type: 'STOP' },
];

const modelEvents: EventObject[] = [...actorEvents, ...timerEvents(engineMachine)];

/** Restarts grow without bound around the loop; what tells two model states apart is the state and the failures. */
function abstractState(snapshot: AnyMachineSnapshot): string {
  const context: EngineContext = snapshot.context;
  return JSON.stringify({ value: snapshot.value, failures: context.failures, failed: context.lastError !== null });
}

function generatePaths(): ModelPath[] {
  return modelPaths(engineMachine, {
    input: INPUT,
    events: modelEvents,
    abstractState,
  });
}

async function replay(path: ModelPath, inspect: (event: InspectionEvent) => void) {
  const clock = new SteppingClock();
  const actor = createActor(engineMachine, { clock, inspect, input: INPUT });
  const downs: string[] = [];
  actor.on('down', ({ lastError }) => downs.push(lastError));
  actor.start();
  let backoffs = 0;
  for (const [index, step] of path.steps.entries()) {
    const { type } = step.event;
    const actorEvent = actorEvents.find((candidate) => candidate === step.event);
    const where = `step ${index} of ${path.steps.map((s) => s.event.type).join(' → ')}`;
    if (type === 'xstate.init') {
      // Already started.
    } else if (type.startsWith('xstate.after.')) {
      const failed = actor.getSnapshot().value === 'FAILED';
      const due = clock.nextDue();
      expect(due, `${where}: a timer is pending`).toBeDefined();
      await clock.advanceTo(due ?? Number.POSITIVE_INFINITY);
      if (failed) backoffs += 1;
    } else if (actorEvent !== undefined) {
      actor.send(actorEvent);
    } else {
      throw new Error(`${where}: the model has no way to cause ${type}`);
    }
    await settle();
    const snapshot = actor.getSnapshot();
    expect(abstractState(snapshot), where).toBe(abstractState(step.state));
    expect(snapshot.context.restarts, where).toBe(backoffs);
    expect(snapshot.context.failures, where).toBeLessThanOrEqual(INPUT.maxFailures);
  }
  actor.stop();
  expect(downs.every((reason) => reason.length > 0)).toBe(true);
}

describe('engine machine, model-based', () => {
  it('replays every generated path on a real actor and exercises every state and transition', async () => {
    const coverage = createCoverage();
    const paths = generatePaths();
    expect(paths.length).toBeGreaterThan(5);
    expect(paths.length).toBeLessThan(1_000);
    for (const path of paths) await replay(path, coverage.inspect);
    expect(missedBy(coverage, engineMachine)).toEqual({ stateNodes: [], transitions: [] });
  });
});

import { describe, expect, it } from 'vitest';
import { type AnyMachineSnapshot, createActor, type EventObject, type InspectionEvent } from 'xstate';
import { type WorkerStatusContext, type WorkerStatusEvent, workerStatusMachine } from '../../machines/worker-status.js';
import { type ModelPath, modelPaths, timerEvents } from '../support/model-paths.js';
import { SteppingClock, settle } from '../support/stepping-clock.js';
import { createCoverage, missedBy } from '../support/transition-coverage.js';

/**
 * Model-based test of the worker-status machine: xstate/graph walks the real machine over the host's events and the
 * coalescing timer firing (`xstate.after.*`); every path is replayed against a real actor on a SteppingClock.
 */

const COALESCE_MS = 1_000;
/** What the worker host sends; STATUS_CHANGED is the machine's own raised event, so the model leaves it out. */
const hostEvents: WorkerStatusEvent[] = [
  { type: 'REGISTERED' },
  { type: 'BACKEND_HEALTHY' },
  { type: 'BACKEND_UNHEALTHY' },
  { type: 'REQUEST_STARTED' },
  { type: 'REQUEST_ENDED' },
  { type: 'STOP' },
];

const modelEvents: EventObject[] = [...hostEvents, ...timerEvents(workerStatusMachine)];

/** Two concurrent requests show everything; more would only make the graph infinite. */
const MAX_IN_FLIGHT = 2;

/** What distinguishes two model states. */
function abstractState(snapshot: AnyMachineSnapshot): string {
  const context: WorkerStatusContext = snapshot.context;
  return JSON.stringify({
    value: snapshot.value,
    inFlight: context.inFlight,
    healthy: context.healthy,
    dirty: context.dirty,
  });
}

function generatePaths(): ModelPath[] {
  return modelPaths(workerStatusMachine, {
    input: { coalesceMs: COALESCE_MS },
    events: modelEvents,
    abstractState,
    offers: (snapshot, event) => !(snapshot.context.inFlight >= MAX_IN_FLIGHT && event.type === 'REQUEST_STARTED'),
  });
}

/** Replays one path; returns the simulated times of the reports the actor emitted. */
async function replay(path: ModelPath, inspect: (event: InspectionEvent) => void): Promise<number[]> {
  const clock = new SteppingClock();
  const actor = createActor(workerStatusMachine, { clock, inspect, input: { coalesceMs: COALESCE_MS } });
  const reports: number[] = [];
  actor.on('report', () => reports.push(clock.now()));
  actor.start();
  for (const [index, step] of path.steps.entries()) {
    const { type } = step.event;
    const hostEvent = hostEvents.find((candidate) => candidate === step.event);
    const where = `step ${index} of ${path.steps.map((s) => s.event.type).join(' → ')}`;
    if (type === 'xstate.init') {
      // The actor is already started.
    } else if (type.startsWith('xstate.after.')) {
      expect(await clock.advanceToNextTimer(), `${where}: a timer is pending`).toBe(true);
    } else if (hostEvent !== undefined) {
      actor.send(hostEvent);
    } else {
      throw new Error(`${where}: the model has no way to cause ${type}`);
    }
    await settle();
    expect(abstractState(actor.getSnapshot()), where).toBe(abstractState(step.state));
  }
  actor.stop();
  return reports;
}

describe('worker-status machine, model-based', () => {
  it('replays every generated path on a real actor and exercises every state and transition', async () => {
    const coverage = createCoverage();
    const paths = generatePaths();
    expect(paths.length).toBeGreaterThan(10);
    expect(paths.length).toBeLessThan(1_000);
    for (const path of paths) {
      const reports = await replay(path, coverage.inspect);
      // Coalescing holds on every path: never two reports within one window.
      const gaps = reports.slice(1).map((at, i) => at - (reports[i] ?? 0));
      expect(gaps.filter((gap) => gap < COALESCE_MS)).toEqual([]);
    }
    expect(missedBy(coverage, workerStatusMachine)).toEqual({ stateNodes: [], transitions: [] });
  });
});

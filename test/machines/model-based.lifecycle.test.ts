import { describe, expect, it } from 'vitest';
import { type AnyMachineSnapshot, createActor, type EventObject, fromPromise, type InspectionEvent } from 'xstate';
import {
  type LifecycleContext,
  type LifecycleEvent,
  type LifecycleInput,
  lifecycleMachine,
  type SendRequest,
} from '../../machines/lifecycle.js';
import type { SendOutcome } from '../../machines/send-outcome.js';
import { type Deferred, deferred } from '../support/deferred.js';
import { ok, QUEEN_A, QUEEN_B, redirect, refused } from '../support/lifecycle-harness.js';
import { type ModelPath, modelPaths } from '../support/model-paths.js';
import { SteppingClock, settle } from '../support/stepping-clock.js';
import { allStateNodes, createCoverage, missedBy } from '../support/transition-coverage.js';

/**
 * Model-based test of the lifecycle machine: xstate/graph walks the real machine, with the world's part modelled
 * as events — timers firing (`xstate.after.*`), the send actor answering (`xstate.done.actor.*` with an ack, a
 * resync, a failure or a follower's redirect to the leader), QUEEN_URL, CHANGED and STOP.
 * The sender knows two queens (`--queen-url A,B`), so failing over to the next one and following a redirect are
 * transitions of the walk like any other. Every path is replayed against a real
 * actor on a SteppingClock whose send actor answers exactly as the path says; every microstep it takes counts.
 */

/** Small numbers keep the graph small: two attempts, two failures. */
const SETTINGS: Omit<LifecycleInput, 'queenUrl' | 'queenUrls'> = {
  heartbeatIntervalMs: 30_000,
  backoffMs: [0, 2_000],
  maxFailures: 2,
  probeIntervalMs: 60_000,
  jitter: 0,
};

/** The events of the model, and how the replay answers each send. */
const answers = new Map<EventObject, SendOutcome>();
const queenUrlEvents: LifecycleEvent[] = [
  { type: 'QUEEN_URL', url: QUEEN_A },
  { type: 'QUEEN_URL', url: QUEEN_B },
];
const changed: LifecycleEvent = { type: 'CHANGED' };
const stop: LifecycleEvent = { type: 'STOP' };
/** A leader neither queen of the list is: its redirect is a failed send, never followed. */
const QUEEN_OFF_LIST = 'http://queen-planted.test:7833';
const hostEvents: LifecycleEvent[] = [...queenUrlEvents, changed, stop];

/** Timers firing, and each send answered with one of `outputs` (the host's send actor never rejects). */
function worldEvents(outputs: readonly SendOutcome[]): EventObject[] {
  const events: EventObject[] = [];
  for (const node of allStateNodes(lifecycleMachine.root)) {
    for (const { eventType } of node.after) events.push({ type: eventType });
    for (const { id } of node.invoke) {
      for (const output of outputs) {
        const event = { type: `xstate.done.actor.${id}`, output };
        answers.set(event, output);
        events.push(event);
      }
    }
  }
  return events;
}

interface World {
  what: string;
  input: LifecycleInput;
  events: EventObject[];
}

/**
 * One queen (or none yet) answering in every way; and two queens (`--queen-url A,B`), where a failed send moves on
 * to the other and a follower redirects to the leader, or to a queen off the list — walked apart, so that neither graph grows past a second.
 */
const singleQueen = [...hostEvents, ...worldEvents([ok(), ok('epoch-1', true), refused()])];
const worlds: World[] = [
  { what: 'known queen', input: { ...SETTINGS, queenUrl: QUEEN_A }, events: singleQueen },
  { what: 'no queen yet', input: { ...SETTINGS, queenUrl: null }, events: singleQueen },
  {
    what: 'two queens',
    input: { ...SETTINGS, queenUrl: QUEEN_A, queenUrls: [QUEEN_A, QUEEN_B] },
    events: [changed, stop, ...worldEvents([ok(), refused(), redirect(QUEEN_B), redirect(QUEEN_OFF_LIST)])],
  },
];

/**
 * What distinguishes two model states. Failures are capped at maxFailures so that failed probes keep the graph
 * finite; the cap is exact for the machine, which only adds one, resets, and compares with maxFailures.
 */
function abstractState(snapshot: AnyMachineSnapshot): string {
  const context: LifecycleContext = snapshot.context;
  return JSON.stringify({
    value: snapshot.value,
    status: snapshot.status,
    queenUrl: context.queenUrl,
    attempt: context.attempt,
    failures: Math.min(context.failures, SETTINGS.maxFailures),
    needFull: context.needFull,
    changed: context.changed,
  });
}

function generatePaths(world: World): ModelPath[] {
  return modelPaths(lifecycleMachine, {
    input: world.input,
    events: world.events,
    abstractState,
  });
}

interface HeldSend {
  invokeId: string;
  request: SendRequest;
  signal: AbortSignal;
  answer: Deferred<SendOutcome>;
}

async function replay(
  path: ModelPath,
  input: LifecycleInput,
  inspect: (event: InspectionEvent) => void,
): Promise<void> {
  const clock = new SteppingClock();
  const held: HeldSend[] = [];
  const actor = createActor(
    lifecycleMachine.provide({
      actors: {
        send: fromPromise<SendOutcome, SendRequest>(({ input, signal, self }) => {
          const answer = deferred<SendOutcome>();
          held.push({ invokeId: self.id, request: input, signal, answer });
          return answer.promise;
        }),
      },
    }),
    { clock, inspect, input },
  );
  actor.start();
  for (const [index, step] of path.steps.entries()) {
    const { event } = step;
    const where = `step ${index} of ${path.steps.map((s) => s.event.type).join(' → ')}`;
    const answer = answers.get(event);
    const hostEvent = hostEvents.find((candidate) => candidate === event);
    if (event.type === 'xstate.init') {
      // The actor is already started.
    } else if (event.type.startsWith('xstate.after.')) {
      expect(await clock.advanceToNextTimer(), `${where}: a timer is pending`).toBe(true);
    } else if (answer !== undefined) {
      const live = held.filter((send) => !send.signal.aborted);
      expect(live, `${where}: one send in flight`).toHaveLength(1);
      const [send] = live;
      expect(event.type, where).toBe(`xstate.done.actor.${send?.invokeId}`);
      expect(send?.request.queenUrl, `${where}: sent to the current queen`).toBe(actor.getSnapshot().context.queenUrl);
      held.splice(0);
      send?.answer.resolve(answer);
    } else if (hostEvent !== undefined) {
      actor.send(hostEvent);
    } else {
      throw new Error(`${where}: the model has no way to cause this event`);
    }
    await settle();
    const snapshot = actor.getSnapshot();
    expect(abstractState(snapshot), where).toBe(abstractState(step.state));
  }
  actor.stop();
}

describe('lifecycle machine, model-based', () => {
  it('replays every generated path on a real actor and exercises every state and transition', async () => {
    const coverage = createCoverage();
    let replayed = 0;
    for (const world of worlds) {
      const paths = generatePaths(world);
      expect(paths.length, world.what).toBeGreaterThan(10);
      for (const path of paths) {
        await replay(path, world.input, coverage.inspect);
        replayed++;
      }
    }
    // Sensible: about fifteen hundred short paths.
    expect(replayed).toBeLessThan(1_500);
    expect(missedBy(coverage, lifecycleMachine)).toEqual({ stateNodes: [], transitions: [] });
    // Walking three graphs is CPU-bound: tens of seconds on two cores shared with the rest of the suite.
  }, 90_000);
});

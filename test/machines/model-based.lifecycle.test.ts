import { describe, expect, it } from 'vitest';
import {
  type AnyMachineSnapshot,
  type AnyStateMachine,
  createActor,
  type EventObject,
  fromPromise,
  getStateNodes,
  type InspectionEvent,
} from 'xstate';
import { getShortestPaths, type StatePath } from 'xstate/graph';
import {
  type LifecycleContext,
  type LifecycleEvent,
  type LifecycleInput,
  lifecycleMachine,
  type SendRequest,
} from '../../machines/lifecycle.js';
import type { SendOutcome } from '../../machines/send-outcome.js';
import { type Deferred, deferred, ok, QUEEN_A, QUEEN_B, refused } from '../support/lifecycle-harness.js';
import { SteppingClock, settle } from '../support/stepping-clock.js';
import {
  allStateNodes,
  createCoverage,
  declaredStateNodes,
  declaredTransitions,
  withoutPrefixPaths,
} from '../support/transition-coverage.js';

/**
 * Model-based test of the lifecycle machine: xstate/graph walks the real machine, with the world's part modelled
 * as events — timers firing (`xstate.after.*`), the send actor answering (`xstate.done.actor.*` with an ack, a
 * resync or a failure; `xstate.error.actor.*`), QUEEN_URL, CHANGED and STOP. Every path is replayed against a real
 * actor on a SteppingClock whose send actor answers exactly as the path says; every microstep it takes counts.
 */

/** Small numbers keep the graph small: two attempts, two failures. */
const SETTINGS: Omit<LifecycleInput, 'queenUrl'> = {
  heartbeatIntervalMs: 30_000,
  backoffMs: [0, 2_000],
  maxFailures: 2,
  probeIntervalMs: 60_000,
  jitter: 0,
};

const model: AnyStateMachine = lifecycleMachine;

/** The events of the model, and how the replay answers each send. */
const answers = new Map<EventObject, SendOutcome | 'throw'>();
const hostEvents: LifecycleEvent[] = [
  { type: 'QUEEN_URL', url: QUEEN_A },
  { type: 'QUEEN_URL', url: QUEEN_B },
  { type: 'CHANGED' },
  { type: 'STOP' },
];
const modelEvents: EventObject[] = [...hostEvents];
for (const node of allStateNodes(lifecycleMachine.root)) {
  for (const { eventType } of node.after) modelEvents.push({ type: eventType });
  for (const { id } of node.invoke) {
    for (const output of [ok(), ok('epoch-1', true), refused()]) {
      const event = { type: `xstate.done.actor.${id}`, output };
      answers.set(event, output);
      modelEvents.push(event);
    }
    const error = { type: `xstate.error.actor.${id}`, error: 'send actor crashed' };
    answers.set(error, 'throw');
    modelEvents.push(error);
  }
}

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

function generatePaths(queenUrl: string | null): Array<StatePath<AnyMachineSnapshot, EventObject>> {
  const paths: Array<StatePath<AnyMachineSnapshot, EventObject>> = getShortestPaths(model, {
    input: { ...SETTINGS, queenUrl },
    // A custom `events` list replaces xstate/graph's own choice of events, so offer only what the state listens to.
    events: (snapshot) => {
      const listened = new Set(getStateNodes(snapshot.machine.root, snapshot.value).flatMap((node) => node.ownEvents));
      return modelEvents.filter((event) => listened.has(event.type));
    },
    // A state is keyed by the edge that reached it, so that every (state, event) edge gets its own shortest path.
    serializeState: (snapshot, event, previous) =>
      `${JSON.stringify(snapshot.value)} via ${JSON.stringify(event ?? null)} from ${previous ? abstractState(previous) : '-'}`,
    stopWhen: (snapshot) => snapshot.status !== 'active',
  });
  return withoutPrefixPaths(paths);
}

interface HeldSend {
  invokeId: string;
  request: SendRequest;
  signal: AbortSignal;
  answer: Deferred<SendOutcome>;
}

async function replay(
  path: StatePath<AnyMachineSnapshot, EventObject>,
  queenUrl: string | null,
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
    { clock, inspect, input: { ...SETTINGS, queenUrl } },
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
      const due = clock.nextDue();
      expect(due, `${where}: a timer is pending`).toBeDefined();
      await clock.advanceTo(due ?? Number.POSITIVE_INFINITY);
    } else if (answer !== undefined) {
      const live = held.filter((send) => !send.signal.aborted);
      expect(live, `${where}: one send in flight`).toHaveLength(1);
      const [send] = live;
      expect([`xstate.done.actor.${send?.invokeId}`, `xstate.error.actor.${send?.invokeId}`], where).toContain(
        event.type,
      );
      expect(send?.request.queenUrl, `${where}: sent to the current queen`).toBe(actor.getSnapshot().context.queenUrl);
      held.splice(0);
      if (answer === 'throw') send?.answer.reject(new Error('send actor crashed'));
      else send?.answer.resolve(answer);
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
    for (const queenUrl of [QUEEN_A, null]) {
      const paths = generatePaths(queenUrl);
      expect(paths.length).toBeGreaterThan(10);
      for (const path of paths) {
        await replay(path, queenUrl, coverage.inspect);
        replayed++;
      }
    }
    // Sensible: about a thousand short paths, replayed in a second or two.
    expect(replayed).toBeLessThan(1_500);
    expect(declaredStateNodes(lifecycleMachine).filter((id) => !coverage.stateNodes.has(id))).toEqual([]);
    expect(declaredTransitions(lifecycleMachine).filter((key) => !coverage.transitions.has(key))).toEqual([]);
  });
});

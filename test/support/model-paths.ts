import { type AnyMachineSnapshot, type AnyStateMachine, type EventObject, getStateNodes } from 'xstate';
import { getShortestPaths, type StatePath } from 'xstate/graph';
import { allStateNodes, withoutPrefixPaths } from './transition-coverage.js';

/** One walk through a model, as xstate/graph gives it and a model-based test replays it. */
export type ModelPath = StatePath<AnyMachineSnapshot, EventObject>;

/** The model's share of the timers: every `xstate.after.*` event of every state node of `machine`. */
export function timerEvents(machine: AnyStateMachine): EventObject[] {
  return allStateNodes(machine.root).flatMap((node) => node.after.map(({ eventType }) => ({ type: eventType })));
}

export interface ModelOptions {
  input: unknown;
  /** Every event the model may offer; a state is offered those it listens to. */
  events: readonly EventObject[];
  /** What distinguishes two model states. */
  abstractState: (snapshot: AnyMachineSnapshot) => string;
  /** Keeps an event the state listens to out of the walk here (a bound that keeps the graph finite). */
  offers?: (snapshot: AnyMachineSnapshot, event: EventObject) => boolean;
}

/** The shortest path to every (state, event) edge of the model, less those a longer path replays anyway. */
export function modelPaths(machine: AnyStateMachine, options: ModelOptions): ModelPath[] {
  const paths: ModelPath[] = getShortestPaths(machine, {
    input: options.input,
    // A custom `events` list replaces xstate/graph's own choice of events, so offer only what the state listens to.
    events: (snapshot) => {
      const listened = new Set(getStateNodes(snapshot.machine.root, snapshot.value).flatMap((node) => node.ownEvents));
      return options.events.filter((event) => listened.has(event.type) && (options.offers?.(snapshot, event) ?? true));
    },
    // A state is keyed by the edge that reached it, so that every (state, event) edge gets its own shortest path.
    serializeState: (snapshot, event, previous) =>
      `${JSON.stringify(snapshot.value)} via ${JSON.stringify(event ?? null)} from ${previous ? options.abstractState(previous) : '-'}`,
    stopWhen: (snapshot) => snapshot.status !== 'active',
  });
  return withoutPrefixPaths(paths);
}

import {
  type AnyStateMachine,
  type AnyStateNode,
  type AnyTransitionDefinition,
  getStateNodes,
  type InspectionEvent,
  isMachineSnapshot,
} from 'xstate';

/**
 * Which state nodes and declared transitions of a machine real actors went through, from `@xstate.microstep`
 * inspection events, against everything the machine definition declares: `on`, `after`, `always` and invoke
 * `onDone`/`onError` of every state node. Keys are ids, so they match across `.provide()` copies of a machine.
 */

export function allStateNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states).flatMap((child) => allStateNodes(child))];
}

function candidates(transition: AnyTransitionDefinition): readonly AnyTransitionDefinition[] {
  const source = transition.source;
  return transition.eventType === '' ? (source.always ?? []) : (source.transitions.get(transition.eventType) ?? []);
}

/** `#source on event [i]`: the i-th candidate for that event (`always` for eventless ones) of its source node. */
export function transitionKey(transition: AnyTransitionDefinition): string {
  const index = candidates(transition).indexOf(transition);
  if (index < 0) throw new Error(`transition of #${transition.source.id} is not among its source's candidates`);
  return `#${transition.source.id} on ${transition.eventType || 'always'} [${index}]`;
}

export function declaredTransitions(machine: AnyStateMachine): string[] {
  return allStateNodes(machine.root).flatMap((node) =>
    [...[...node.transitions.values()].flat(), ...(node.always ?? [])].map((t) => transitionKey(t)),
  );
}

export function declaredStateNodes(machine: AnyStateMachine): string[] {
  return allStateNodes(machine.root).map((node) => `#${node.id}`);
}

export interface Coverage {
  /** Pass as the actor's `inspect` option. */
  inspect: (event: InspectionEvent) => void;
  transitions: Set<string>;
  stateNodes: Set<string>;
}

export function createCoverage(): Coverage {
  const transitions = new Set<string>();
  const stateNodes = new Set<string>();
  return {
    transitions,
    stateNodes,
    inspect: (event) => {
      if (event.type !== '@xstate.microstep' || !isMachineSnapshot(event.snapshot)) return;
      for (const transition of event._transitions) {
        transitions.add(transitionKey(transition));
        stateNodes.add(`#${transition.source.id}`);
      }
      const snapshot = event.snapshot;
      for (const node of getStateNodes(snapshot.machine.root, snapshot.value)) stateNodes.add(`#${node.id}`);
    },
  };
}

/** What the actors inspected by `coverage` never went through of `machine`: both empty after a full walk. */
export function missedBy(
  coverage: Coverage,
  machine: AnyStateMachine,
): { stateNodes: string[]; transitions: string[] } {
  return {
    stateNodes: declaredStateNodes(machine).filter((id) => !coverage.stateNodes.has(id)),
    transitions: declaredTransitions(machine).filter((key) => !coverage.transitions.has(key)),
  };
}

/** Drops every path whose events are a prefix of another path's: replaying the longer one covers it. */
export function withoutPrefixPaths<P extends { steps: ReadonlyArray<{ event: unknown }> }>(
  paths: readonly P[],
  serialize: (event: unknown) => string = (event) => JSON.stringify(event),
): P[] {
  const keyed = paths
    .map((path) => ({ path, key: path.steps.map((step) => `${serialize(step.event)}\n`).join('') }))
    .sort((a, b) => b.key.length - a.key.length);
  const kept: typeof keyed = [];
  for (const candidate of keyed) {
    if (!kept.some((longer) => longer.key.startsWith(candidate.key))) kept.push(candidate);
  }
  return kept.map((entry) => entry.path);
}

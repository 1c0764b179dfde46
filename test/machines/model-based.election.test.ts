import { describe, expect, it } from 'vitest';
import { type AnyMachineSnapshot, createActor, type EventObject, fromCallback, type InspectionEvent } from 'xstate';
import {
  type ElectionContext,
  type ElectionEvent,
  electionMachine,
  electionRole,
  type QueenIdentity,
} from '../../machines/election.js';
import { type ModelPath, modelPaths, timerEvents } from '../support/model-paths.js';
import { SteppingClock, settle } from '../support/stepping-clock.js';
import { createCoverage, missedBy } from '../support/transition-coverage.js';

/**
 * Model-based test of the election machine: xstate/graph walks the real machine over what etcd can tell it — the
 * campaign's lease lost, etcd unreachable, the observer showing this queen, another one or none — and the
 * retry timer. Every path is replayed on a real actor whose campaign and observer are live callback actors: each
 * event comes from the one actor that would send it, and the invariants of a safe election hold after every step.
 */

const SELF: QueenIdentity = { url: 'http://queen-a.test:7833', epoch: 'q-a' };
const OTHER: QueenIdentity = { url: 'http://queen-b.test:7833', epoch: 'q-b' };
/** This queen's URL in an earlier life: another process, so another leader. */
const FORMER_SELF: QueenIdentity = { url: SELF.url, epoch: 'q-a-before' };
const RETRY_MS = 1_000;

const campaignEvents: ElectionEvent[] = [{ type: 'LEASE_LOST' }, { type: 'ETCD_UNREACHABLE' }];
const observerEvents: ElectionEvent[] = [
  { type: 'LEADER', leader: SELF },
  { type: 'LEADER', leader: OTHER },
  { type: 'LEADER', leader: FORMER_SELF },
  { type: 'LEADER', leader: null },
];
const hostEvents: ElectionEvent[] = [{ type: 'STOP' }, { type: 'DEPOSED' }];

const modelEvents: EventObject[] = [
  ...campaignEvents,
  ...observerEvents,
  ...hostEvents,
  ...timerEvents(electionMachine),
];

function abstractState(snapshot: AnyMachineSnapshot): string {
  const context: ElectionContext = snapshot.context;
  return JSON.stringify({ value: snapshot.value, status: snapshot.status, leader: context.leader });
}

function generatePaths(): ModelPath[] {
  return modelPaths(electionMachine, {
    input: { self: SELF, retryMs: RETRY_MS },
    events: modelEvents,
    abstractState,
  });
}

interface Live {
  campaigns: Set<(event: ElectionEvent) => void>;
  observers: Set<(event: ElectionEvent) => void>;
  /** Campaigns started, each with the identity it bid with. */
  bids: QueenIdentity[];
}

async function replay(path: ModelPath, inspect: (event: InspectionEvent) => void): Promise<void> {
  const clock = new SteppingClock();
  const live: Live = { campaigns: new Set(), observers: new Set(), bids: [] };
  const callback = (set: Set<(event: ElectionEvent) => void>, bids?: QueenIdentity[]) =>
    fromCallback<ElectionEvent, QueenIdentity>(({ sendBack, input }) => {
      set.add(sendBack);
      bids?.push(input);
      return () => set.delete(sendBack);
    });
  const actor = createActor(
    electionMachine.provide({
      actors: { campaign: callback(live.campaigns, live.bids), observe: callback(live.observers) },
    }),
    { clock, inspect, input: { self: SELF, retryMs: RETRY_MS } },
  );
  actor.start();
  let elected = false;
  for (const [index, step] of path.steps.entries()) {
    const { event } = step;
    const where = `step ${index} of ${path.steps.map((s) => JSON.stringify(s.event)).join(' → ')}`;
    const fromCampaign = campaignEvents.find((candidate) => candidate === event);
    const fromObserver = observerEvents.find((candidate) => candidate === event);
    const fromHost = hostEvents.find((candidate) => candidate === event);
    if (event.type === 'xstate.init') {
      // The actor is already started.
    } else if (event.type.startsWith('xstate.after.')) {
      expect(await clock.advanceToNextTimer(), `${where}: a timer is pending`).toBe(true);
    } else if (fromCampaign !== undefined) {
      expect(live.campaigns.size, `${where}: one campaign runs`).toBe(1);
      for (const sendBack of live.campaigns) sendBack(fromCampaign);
    } else if (fromObserver !== undefined) {
      expect(live.observers.size, `${where}: one observer runs`).toBe(1);
      // etcd shows this queen's bid first: only a running campaign can have made it.
      if (fromObserver.type === 'LEADER' && fromObserver.leader === SELF && live.campaigns.size === 1) elected = true;
      for (const sendBack of live.observers) sendBack(fromObserver);
    } else if (fromHost !== undefined) {
      actor.send(fromHost);
    } else {
      throw new Error(`${where}: the model has no way to cause ${event.type}`);
    }
    await settle();
    const snapshot = actor.getSnapshot();
    expect(abstractState(snapshot), where).toBe(abstractState(step.state));
    const { leader } = snapshot.context;
    const judging = snapshot.hasTag('judging');
    // Safety: judging only once elected, and never while etcd shows another queen as leader.
    if (judging) expect(elected, `${where}: judging without having been elected`).toBe(true);
    if (judging && leader !== null) expect(leader, `${where}: judging under another leader`).toEqual(SELF);
    // A write that found its campaign key gone ends judging at once, isolated or not.
    if (event.type === 'DEPOSED') expect(judging, `${where}: judging once deposed`).toBe(false);
    // Nothing runs once stopped; otherwise one observer always, and at most one campaign.
    const active = snapshot.status === 'active';
    expect(live.observers.size, where).toBe(active ? 1 : 0);
    expect(live.campaigns.size, where).toBeLessThanOrEqual(active ? 1 : 0);
    if (active) expect(electionRole(snapshot), where).toBe(judging ? 'leader' : expectedRole(snapshot.value));
  }
  expect(live.bids.every((bid) => bid === SELF || JSON.stringify(bid) === JSON.stringify(SELF))).toBe(true);
  actor.stop();
}

function expectedRole(value: unknown): string {
  return JSON.stringify(value) === JSON.stringify({ campaigning: 'follower' }) ? 'follower' : 'candidate';
}

describe('election machine, model-based', () => {
  it('replays every generated path on a real actor, safely, and exercises every state and transition', async () => {
    const coverage = createCoverage();
    const paths = generatePaths();
    expect(paths.length).toBeGreaterThan(10);
    expect(paths.length).toBeLessThan(1_000);
    for (const path of paths) await replay(path, coverage.inspect);
    expect(missedBy(coverage, electionMachine)).toEqual({ stateNodes: [], transitions: [] });
  });

  it('a leader that loses its lease stops judging in the same step, and bids again after the retry delay', async () => {
    const clock = new SteppingClock();
    let campaign: ((event: ElectionEvent) => void) | undefined;
    let observer: ((event: ElectionEvent) => void) | undefined;
    let campaigns = 0;
    const actor = createActor(
      electionMachine.provide({
        actors: {
          campaign: fromCallback(({ sendBack }) => {
            campaign = sendBack;
            campaigns++;
          }),
          observe: fromCallback(({ sendBack }) => {
            observer = sendBack;
          }),
        },
      }),
      { clock, input: { self: SELF, retryMs: RETRY_MS } },
    );
    actor.start();
    observer?.({ type: 'LEADER', leader: SELF });
    expect(electionRole(actor.getSnapshot())).toBe('leader');
    campaign?.({ type: 'LEASE_LOST' });
    expect(actor.getSnapshot().hasTag('judging')).toBe(false);
    expect(electionRole(actor.getSnapshot())).toBe('candidate');
    await clock.advanceTo(RETRY_MS - 1);
    expect(campaigns).toBe(1);
    await clock.advanceTo(RETRY_MS);
    expect(campaigns).toBe(2);
    actor.stop();
  });
});

import { describe, expect, it } from 'vitest';
import { assembleQueen } from '../../../actors/assemble-queen.js';
import type { QueenRole } from '../../../contracts/election.js';
import { QUEEN_PATHS } from '../../../contracts/paths.js';
import { followElection } from '../../../services/ha/follow-election.js';
import { lateLeadership } from '../../../services/ha/leadership.js';
import { silentLogger } from '../../../services/logger.js';
import { hiveRecord, workerRecord } from '../../../services/queen/records.js';
import type { StateStore, StoredState } from '../../../services/store/state-store.js';
import { discoveryHeartbeat, HIVE_ID } from '../../fixtures/examples.js';
import { startQueenApp } from '../../support/queen-app.js';
import { DEFAULT_LIVENESS, issuedSecret, steppedClocks } from '../../support/queen-registry.js';
import { eventually } from '../../support/role-process.js';
import { SseReader } from '../../support/sse-reader.js';

/**
 * A queen elected leader takes nothing before it has loaded the state: no heartbeat, no secret issued, no judging. A
 * load that fails is tried again; the queen never leads on an empty state, where a known hive would be given a new
 * identity by whoever claims its id first.
 */

const SELF = 'http://queen-a.test:7833';

/** What the former leader kept: the hive registered, with the hash of the secret it proved. */
function formerLeaderState(): StoredState {
  const former = assembleQueen({
    settings: DEFAULT_LIVENESS,
    streamIntervalMs: 2_500,
    logger: silentLogger,
    ...steppedClocks(),
  });
  const secret = issuedSecret(former.registry.receiveHive(discoveryHeartbeat));
  // The hive kept it and sent it back: its identity is proven.
  former.registry.receiveHive({ ...discoveryHeartbeat, hive_secret: secret });
  const state = {
    hives: [...former.registry.hives.entries()].map(hiveRecord),
    workers: [...former.registry.workers.entries()].map(workerRecord),
  };
  void former.close();
  return state;
}

/** An election the test drives: this queen leads once `lead` is called. */
function drivenElection() {
  const listeners = new Set<() => void>();
  let leading = false;
  return {
    election: {
      role: (): QueenRole => (leading ? 'leader' : 'candidate'),
      leaderUrl: () => (leading ? SELF : null),
      judging: () => leading,
      onChange: (listener: () => void) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
    lead: () => {
      leading = true;
      for (const listener of listeners) listener();
    },
    depose: () => {
      leading = false;
      for (const listener of listeners) listener();
    },
  };
}

/** A store whose first load fails (etcd answered nothing), then holds `state`. */
function failingFirstLoad(state: StoredState): { store: StateStore; loads: () => number } {
  let loads = 0;
  const store: StateStore = {
    describe: () => ({ path: null, bytes: 0 }),
    load: async () => {
      loads += 1;
      if (loads === 1) throw new Error('deadline exceeded');
      return state;
    },
    write: async () => {},
    events: async () => ({ events: [], next: null }),
    prune: async () => 0,
    close: async () => {},
  };
  return { store, loads: () => loads };
}

describe('following the election', () => {
  it('a new leader answers 503 until the state is loaded, loads again after a failure, then holds the identities', async () => {
    const { store, loads } = failingFirstLoad(formerLeaderState());
    const late = lateLeadership();
    const started = startQueenApp({ leadership: late.leadership });
    const { election, lead } = drivenElection();
    const followed = followElection({
      election,
      selfUrl: SELF,
      queen: started,
      store,
      logger: silentLogger,
      retryMs: 10,
    });
    late.attach(followed);
    lead();
    // Elected, but the load failed: the hive's id must not be given to whoever claims it now.
    const before = started.state();
    const early = await started.post(QUEEN_PATHS.hiveHeartbeat, discoveryHeartbeat);
    expect(early.status).toBe(503);
    expect(early.headers.get('retry-after')).not.toBeNull();
    expect(followed.judging()).toBe(false);
    expect(started.state()).toBe(before);
    await eventually(() => (followed.judging() ? true : undefined), 'the state loaded on a retry', 10_000);
    expect(loads()).toBe(2);
    expect(started.registry.hives.get(HIVE_ID)?.secretHash).toEqual(expect.any(String));
    // Another start claiming the id without the hive's secret is now refused: the identity held across the failover.
    const claim = await started.post(
      QUEEN_PATHS.hiveHeartbeat,
      JSON.stringify({ ...discoveryHeartbeat, boot_id: 'b-another-machine' }),
    );
    expect(claim.status).toBe(403);
  });

  it('a leader deposed ends its streams, whose clients reconnect to read the new leader', async () => {
    const late = lateLeadership();
    const started = startQueenApp({ leadership: late.leadership });
    const { election, lead, depose } = drivenElection();
    const followed = followElection({
      election,
      selfUrl: SELF,
      queen: started,
      store: failingFirstLoad(formerLeaderState()).store,
      logger: silentLogger,
      retryMs: 10,
    });
    late.attach(followed);
    lead();
    await eventually(() => (followed.judging() ? true : undefined), 'the state loaded', 10_000);
    const stream = new SseReader((await started.request(QUEEN_PATHS.stream)).body);
    expect((await stream.take(1))[0]?.data).toMatchObject({ type: 'snapshot', hives: [{ hive_id: HIVE_ID }] });
    depose();
    let rest = await stream.next();
    while (rest) rest = await stream.next();
    expect(rest).toBeUndefined();
    // Leading no more and knowing no leader, it takes no new reader either.
    expect((await started.request(QUEEN_PATHS.stream)).status).toBe(503);
  });
});

import { onTestFinished } from 'vitest';
import type { HiveHeartbeat, WorkerHeartbeat } from '../../contracts/heartbeat.js';
import type { LivenessSettings } from '../../machines/liveness.js';
import type { LivenessChange, RegistryChange, RegistryKind } from '../../machines/registry-changes.js';
import type { RegistryClock } from '../../machines/registry-clock.js';
import { defined } from '../../services/defined.js';
import {
  createQueenRegistry,
  type HiveVerdict,
  type QueenRegistry,
  type QueenRegistryOptions,
  type RegistryCapacity,
} from '../../services/queen/registry.js';
import { discoveryHeartbeat, periodicHeartbeat, workerHeartbeat } from '../fixtures/examples.js';
import { SteppingClock } from './stepping-clock.js';

/** Queen wall clock when the simulated clock reads 0: 2025-10-30T14:52:00Z, the examples' day. */
export const WALL_BASE = Date.parse('2025-10-30T14:52:00.000Z');

/** docs/protocol.md's default thresholds. */
export const DEFAULT_LIVENESS: LivenessSettings = {
  suspectAfterMs: 45_000,
  offlineAfterMs: 90_000,
  forgetAfterMs: 600_000,
};

/** The queen's clocks driven by one SteppingClock: monotonic = simulated ms, wall = WALL_BASE + simulated ms. */
export function steppedClocks(): { timers: SteppingClock; clock: RegistryClock } {
  const timers = new SteppingClock();
  return { timers, clock: { now: () => timers.now(), wallNow: () => WALL_BASE + timers.now() } };
}

export interface SteppedRegistry {
  registry: QueenRegistry;
  timers: SteppingClock;
  clock: RegistryClock;
}

/** A registry on stepped clocks with the default thresholds, stopped when the test that started it finishes. */
export function startQueenRegistry(options: Partial<QueenRegistryOptions> = {}): SteppedRegistry {
  const { timers, clock } = steppedClocks();
  const registry = createQueenRegistry({ settings: DEFAULT_LIVENESS, clock, timers, ...options });
  onTestFinished(() => registry.stop());
  return { registry, timers, clock };
}

export interface RegistryHarness extends SteppedRegistry {
  /** Every change published so far, in order. */
  changes: Array<{ kind: RegistryKind; change: RegistryChange }>;
  /** The liveness changes so far, as `kind id from→to (reason) @ms`. */
  transitions(): string[];
}

export function startRegistry(settings: LivenessSettings = DEFAULT_LIVENESS): RegistryHarness {
  const started = startQueenRegistry({ settings });
  const { timers, clock } = started;
  const registry = rememberingSecrets(started.registry);
  const changes: RegistryHarness['changes'] = [];
  registry.onChanges((kind, batch) => {
    for (const change of batch) changes.push({ kind, change });
  });
  return {
    registry,
    timers,
    clock,
    changes,
    transitions: () =>
      changes
        .map(({ change }) => change)
        .filter((change): change is LivenessChange => change.type === 'liveness')
        .map((c) => `${c.kind} ${c.id} ${c.from ?? 'new'}→${c.to} (${c.reason}) @${c.at - WALL_BASE}`),
  };
}

/** A registry as a served queen runs it: heartbeats batched per event-loop turn, with a capacity, senders' secrets kept. */
export function startServedRegistry(capacity?: RegistryCapacity): QueenRegistry {
  return rememberingSecrets(startQueenRegistry({ batch: true, ...defined({ capacity }) }).registry);
}

/** The secret a hive heartbeat's verdict issued; throws when it issued none, so that no test goes on without one. */
export function issuedSecret(verdict: HiveVerdict): string {
  if (!verdict.ok || verdict.value.secret === null) throw new Error(`no secret issued: ${JSON.stringify(verdict)}`);
  return verdict.value.secret;
}

/** A hive heartbeat of the examples for `hiveId`, full capabilities included unless `periodic`. */
export function hiveBeat(hiveId: string, overrides: Partial<HiveHeartbeat> = {}, periodic = false): HiveHeartbeat {
  return { ...structuredClone(periodic ? periodicHeartbeat : discoveryHeartbeat), hive_id: hiveId, ...overrides };
}

export function workerBeat(
  workerId: string,
  hiveId: string,
  overrides: Partial<WorkerHeartbeat> = {},
): WorkerHeartbeat {
  return { ...structuredClone(workerHeartbeat), worker_id: workerId, hive_id: hiveId, ...overrides };
}

/**
 * The registry as real senders use it: each hive heartbeat (and each worker heartbeat of that hive) carries the
 * secret its hive id was issued, unless the heartbeat has its own `hive_secret`.
 */
export function rememberingSecrets(registry: QueenRegistry): QueenRegistry {
  const secrets = new Map<string, string>();
  const withSecret = <H extends { hive_id: string; hive_secret?: string | undefined }>(heartbeat: H): H => {
    const secret = secrets.get(heartbeat.hive_id);
    return secret === undefined || 'hive_secret' in heartbeat ? heartbeat : { ...heartbeat, hive_secret: secret };
  };
  const remember = (hiveId: string, verdict: HiveVerdict): HiveVerdict => {
    if (verdict.ok && verdict.value.secret !== null) secrets.set(hiveId, verdict.value.secret);
    return verdict;
  };
  return {
    ...registry,
    receiveHive: (heartbeat, source) =>
      remember(heartbeat.hive_id, registry.receiveHive(withSecret(heartbeat), source)),
    receiveWorker: (heartbeat, source) => registry.receiveWorker(withSecret(heartbeat), source),
    submitHive: async (heartbeat, source) =>
      remember(heartbeat.hive_id, await registry.submitHive(withSecret(heartbeat), source)),
    submitWorker: (heartbeat, source) => registry.submitWorker(withSecret(heartbeat), source),
  };
}

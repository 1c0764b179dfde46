import type { Capabilities, Model } from '../../contracts/capabilities.js';
import type { LifecycleSettings } from '../../machines/lifecycle.js';
import type { LivenessSettings } from '../../machines/liveness.js';
import { capabilities as exampleCapabilities, monitorData } from '../fixtures/examples.js';
import { DEFAULT_LIVENESS } from '../support/queen-registry.js';
import { SimHive } from './hive.js';
import { type NetworkSettings, SimNetwork } from './network.js';
import { SimQueen } from './queen.js';
import { between, derive, type Random } from './random.js';
import { Scheduler } from './scheduler.js';

/** docs/protocol.md: Command line defaults of a hive's lifecycle, jitter included. */
export const PROTOCOL_LIFECYCLE: LifecycleSettings = {
  heartbeatIntervalMs: 30_000,
  backoffMs: [0, 2_000, 4_000, 8_000, 16_000],
  maxFailures: 5,
  probeIntervalMs: 60_000,
  jitter: 0.1,
};

/** docs/protocol.md: Command line defaults of the queen: suspect 45 s, offline 90 s, forget 10 min. */
export const PROTOCOL_LIVENESS: LivenessSettings = DEFAULT_LIVENESS;

/**
 * A simulated hour of 200 hives is CPU work: seconds alone, several times that on two cores shared with the rest of
 * the suite and a second run beside it. Simulated time never depends on it; only this bound does.
 */
export const SIM_TEST_TIMEOUT_MS = 300_000;

export interface ClusterOptions {
  seed: number;
  hives: number;
  lifecycle?: Partial<LifecycleSettings>;
  liveness?: Partial<LivenessSettings>;
  network?: Partial<NetworkSettings>;
  /** Each hive's clock offset; none by default. */
  skewMs?: (random: Random) => number;
}

export interface Cluster {
  readonly scheduler: Scheduler;
  readonly network: SimNetwork;
  readonly queen: SimQueen;
  readonly hives: readonly SimHive[];
  readonly lifecycle: LifecycleSettings;
  readonly liveness: LivenessSettings;
  /** When each hive was started, by id. */
  readonly startedAt: ReadonlyMap<string, number>;
  /** Runs the simulation up to simulated time `ms`. */
  runUntil(ms: number): Promise<void>;
  /** Stops every hive and the queen. */
  close(): void;
}

/** A pool of models the hives hold a few of each, so capability sets differ from hive to hive. */
export const MODEL_POOL: readonly Model[] = [
  ...exampleCapabilities.models,
  { model_id: 'llama-3.1-70b-instruct-q4_k_m', size_gb: 39.6 },
  { model_id: 'qwen2.5/qwen2.5-7b-instruct-q8_0', size_gb: 7.54 },
  { model_id: 'gemma-2-9b-it-q6_k', size_gb: 7.07 },
  { model_id: 'phi-3-mini-4k-instruct-q4', size_gb: 2.39 },
  { model_id: 'deepseek-coder-v2-lite-q4_k_m', size_gb: 9.65 },
  { model_id: 'mixtral-8x7b-instruct-q3_k_m', size_gb: 20.4 },
];

function hiveCapabilities(random: Random): Capabilities {
  const models = MODEL_POOL.filter(() => random() < 0.5);
  return { ...exampleCapabilities, models };
}

/**
 * N hives and one queen under one simulated clock, wired by the simulated network. Hives start at seeded random
 * moments over the first heartbeat interval, as machines of a real cluster boot at different times; each has its own
 * jitter stream, clock skew and capability set.
 */
export function createCluster(options: ClusterOptions): Cluster {
  const lifecycle = { ...PROTOCOL_LIFECYCLE, ...options.lifecycle };
  const liveness = { ...PROTOCOL_LIVENESS, ...options.liveness };
  const scheduler = new Scheduler();
  const queen = new SimQueen(scheduler, liveness);
  const network = new SimNetwork(scheduler, derive(options.seed, 'network'), queen, options.network);
  const setup = derive(options.seed, 'setup');
  const hives: SimHive[] = [];
  const startedAt = new Map<string, number>();
  for (let i = 0; i < options.hives; i++) {
    const id = `hive-${String(i).padStart(3, '0')}`;
    const hive = new SimHive(
      {
        id,
        skewMs: options.skewMs?.(setup) ?? 0,
        capabilities: hiveCapabilities(setup),
        monitorData,
        settings: lifecycle,
        random: derive(options.seed, `jitter:${id}`),
      },
      scheduler,
      network,
    );
    hives.push(hive);
    const at = between(setup, 0, lifecycle.heartbeatIntervalMs - 1);
    startedAt.set(id, at);
    scheduler.at(at, () => hive.start());
  }
  return {
    scheduler,
    network,
    queen,
    hives,
    lifecycle,
    liveness,
    startedAt,
    runUntil: (ms) => scheduler.runUntil(ms),
    close() {
      for (const hive of hives) hive.crash();
      queen.close();
    },
  };
}

import type { Capabilities } from '../../contracts/capabilities.js';
import type { MonitorData } from '../../contracts/heartbeat.js';
import type { LifecycleSettings } from '../../machines/lifecycle.js';
import { diffCapabilities, hasChanges } from '../../services/capabilities/capability-diff.js';
import { type ChangeLog, createChangeLog } from '../../services/capabilities/change-log.js';
import { createNumbering } from '../../services/heartbeat-numbering.js';
import { type CapabilitySource, createHivePayload } from '../../services/hive/heartbeat-payload.js';
import { type HiveIdentity, loadHiveIdentity } from '../../services/hive/identity.js';
import { silentLogger } from '../../services/logger.js';
import { createSender, type Sender } from '../../services/sender.js';
import { WALL_BASE } from '../support/queen-registry.js';
import type { SimNetwork } from './network.js';
import { QUEEN_URL } from './queen.js';
import type { Random } from './random.js';
import type { Scheduler } from './scheduler.js';

/**
 * The capability tracker's bookkeeping without its directory watching: a new set is diffed against the last one and
 * recorded as one versioned batch, exactly as the tracker does after a rescan.
 */
export class MemoryCapabilities implements CapabilitySource {
  #committed: Capabilities;
  readonly #log: ChangeLog;
  readonly #listeners = new Set<() => void>();

  constructor(initial: Capabilities) {
    this.#committed = initial;
    this.#log = createChangeLog(initial);
  }

  current(): Capabilities {
    return this.#committed;
  }

  version(): number {
    return this.#log.version();
  }

  pending() {
    return this.#log.pending(this.#committed);
  }

  acknowledge(version: number): void {
    this.#log.acknowledge(version);
  }

  unacknowledged(): number {
    return this.#log.unacknowledged();
  }

  /** The hive's models or worker types changed on disk. */
  change(next: Capabilities): void {
    const changes = diffCapabilities(this.#committed, next);
    this.#committed = next;
    if (!hasChanges(changes)) return;
    this.#log.record(changes);
    for (const listener of this.#listeners) listener();
  }

  onChange(listener: () => void): void {
    this.#listeners.add(listener);
  }
}

export interface SimHiveOptions {
  id: string;
  /** Hive clock minus simulated time: what its `timestamp` is off by. */
  skewMs: number;
  capabilities: Capabilities;
  monitorData: MonitorData;
  settings: LifecycleSettings;
  /** The hive's own jitter source. */
  random: Random;
}

/**
 * One hive: the real sender (lifecycle machine) and the real heartbeat payload builder, over an in-memory capability
 * source and a fixed monitor reading, posting through the simulated network.
 */
export class SimHive {
  readonly id: string;
  readonly skewMs: number;
  readonly capabilities: MemoryCapabilities;
  #sender: Sender | null = null;
  #boots = 0;
  /** Kept across restarts, as the hive's state directory keeps it. */
  #identity: HiveIdentity;

  constructor(
    private readonly options: SimHiveOptions,
    private readonly scheduler: Scheduler,
    private readonly network: SimNetwork,
  ) {
    this.id = options.id;
    this.#identity = loadHiveIdentity(null, options.id, silentLogger);
    this.skewMs = options.skewMs;
    this.capabilities = new MemoryCapabilities(options.capabilities);
    this.capabilities.onChange(() => this.#sender?.changed());
  }

  get running(): boolean {
    return this.#sender?.actor.getSnapshot().status === 'active';
  }

  /** Top-level lifecycle state; `DOWN` when not running. */
  state(): string {
    return this.running && this.#sender ? this.#sender.state() : 'DOWN';
  }

  /** Starts the hive process: push discovery to the queen, then heartbeats. */
  start(): void {
    this.#boots++;
    const { monitorData } = this.options;
    const payload = createHivePayload({
      hiveId: this.id,
      numbering: createNumbering(() => `boot-${this.id}-${this.#boots}`),
      hiveUrl: `http://${this.id}.sim:7835`,
      monitor: { latest: () => monitorData },
      capabilities: this.capabilities,
      identity: this.#identity,
      now: () => new Date(WALL_BASE + this.scheduler.now() + this.skewMs),
    });
    this.#sender = createSender({
      systemId: `hive-lifecycle-${this.id}`,
      settings: this.options.settings,
      queenUrl: QUEEN_URL,
      buildPayload: payload.build,
      post: (_queenUrl, heartbeat, signal) => this.network.post(heartbeat, signal),
      onSent: payload.sent,
      logger: silentLogger,
      clock: this.scheduler,
      random: this.options.random,
    });
  }

  /** The process dies: no final heartbeat, its timers and its send in flight die with it. */
  crash(): void {
    this.#sender?.actor.stop();
  }
}

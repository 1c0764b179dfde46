import { type AssembledQueen, assembleQueen } from '../../actors/assemble-queen.js';
import { HeartbeatAck, type HiveHeartbeat } from '../../contracts/heartbeat.js';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import { HiveList, type HiveView, type Liveness, type LivenessReason, QueenHealth } from '../../contracts/registry.js';
import type { Fate, LivenessSettings } from '../../machines/liveness.js';
import type { SendOutcome } from '../../machines/send-outcome.js';
import { silentLogger } from '../../services/logger.js';
import { createQueenClock, type QueenClock } from '../../services/queen/queen-clock.js';
import type { Timers } from '../../services/timers.js';
import { WALL_BASE } from '../support/queen-registry.js';
import type { Receiver } from './network.js';
import type { Scheduler } from './scheduler.js';

export const QUEEN_URL = 'http://queen.sim:7833';

/** The stall ticker's period in the simulation. */
export const SIM_TICK_MS = 1_000;

/** One liveness transition of a hive, as the queen published it. */
export interface Transition {
  /** Simulated time of the transition. */
  at: number;
  /** Which queen process (1, then 2 after a restart). */
  queen: number;
  id: string;
  from: Liveness | null;
  to: Fate;
  reason: LivenessReason;
  /** How long the queen had not heard from the hive when it judged: the detection latency of a missed heartbeat. */
  silentMs: number | null;
}

/** One hive heartbeat the queen received and answered. */
export interface Receipt {
  at: number;
  queen: number;
  hiveId: string;
  /** It carried the full capabilities. */
  full: boolean;
  /** It carried capability changes (a CAPABILITY_SYNC, sent at once rather than at the interval). */
  changes: boolean;
  /** The ack asked for them. */
  resync: boolean;
}

/**
 * The real queen (`assembleQueen`: Hono app, registries, stream, metrics) on the simulated clock, behind the
 * simulated network. It can stall (its process does nothing for a while: requests and its own timers wait, then run
 * timers first, as Node's event loop does after a block) and restart (a new process: new epoch, empty registries, a
 * monotonic clock starting again at 0).
 */
export class SimQueen implements Receiver {
  readonly transitions: Transition[] = [];
  readonly receipts: Receipt[] = [];
  #queen: AssembledQueen;
  #generation = 0;
  #stalled = false;
  /** What waits for the end of a stall: timers that came due, then requests in arrival order. */
  #dueTimers = new Map<number, () => void>();
  #heldRequests: Array<() => void> = [];
  #straddled = 0;
  readonly #timers: Timers;
  #clock: QueenClock | undefined;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly settings: LivenessSettings,
  ) {
    this.#timers = {
      setTimeout: (fn: () => void, timeout: number) => {
        const id: number = scheduler.setTimeout(() => {
          if (this.#stalled) this.#dueTimers.set(id, fn);
          else fn();
        }, timeout);
        return id;
      },
      clearTimeout: (id: number) => {
        this.#dueTimers.delete(id);
        scheduler.clearTimeout(id);
      },
    };
    this.#queen = this.assemble();
  }

  get current(): AssembledQueen {
    return this.#queen;
  }

  get generation(): number {
    return this.#generation;
  }

  /** Requests whose handling outlasted the simulated instant they arrived in: the harness's settling failed. */
  get straddled(): number {
    return this.#straddled;
  }

  /** The stall time the current queen left out of its clock. */
  get stalledMs(): number {
    return this.#clock?.stalledMs ?? 0;
  }

  /** The queen's process stops running for `ms`: nothing is received or swept until it resumes. */
  stall(ms: number): void {
    this.#stalled = true;
    this.scheduler.setTimeout(() => {
      this.#stalled = false;
      const timers = [...this.#dueTimers.values()];
      this.#dueTimers.clear();
      for (const fn of timers) fn();
      const requests = this.#heldRequests;
      this.#heldRequests = [];
      for (const run of requests) run();
    }, ms);
  }

  /** The queen process is replaced by a new one; what the old one knew is gone. */
  restart(): void {
    this.#queen.close();
    this.#dueTimers.clear();
    this.#heldRequests = [];
    this.#queen = this.assemble();
  }

  close(): void {
    this.#queen.close();
  }

  /** `GET /v1/hives` of the current queen: its view, as a client sees it. */
  async hives(): Promise<HiveView[]> {
    const response = await this.#queen.app.request(`${QUEEN_URL}${QUEEN_PATHS.hives}`);
    return HiveList.parse(await response.json()).hives;
  }

  /** `GET /health` of the current queen. */
  async health(): Promise<QueenHealth> {
    const response = await this.#queen.app.request(`${QUEEN_URL}${QUEEN_PATHS.health}`);
    return QueenHealth.parse(await response.json());
  }

  exchange(heartbeat: HiveHeartbeat): Promise<SendOutcome> {
    if (!this.#stalled) return this.receive(heartbeat);
    return new Promise((resolve) => {
      this.#heldRequests.push(() => void this.receive(heartbeat).then(resolve));
    });
  }

  private async receive(heartbeat: HiveHeartbeat): Promise<SendOutcome> {
    const generation = this.#generation;
    const arrived = this.scheduler.now();
    const response = await this.#queen.app.request(`${QUEEN_URL}${QUEEN_PATHS.hiveHeartbeat}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(heartbeat),
    });
    const body: unknown = await response.json();
    if (!response.ok) {
      return { ok: false, error: { kind: 'http', status: response.status, message: JSON.stringify(body) } };
    }
    const ack = HeartbeatAck.parse(body);
    if (this.scheduler.now() !== arrived) this.#straddled++;
    this.receipts.push({
      at: this.scheduler.now(),
      queen: generation,
      hiveId: heartbeat.hive_id,
      full: heartbeat.capabilities !== undefined,
      changes: heartbeat.capability_changes !== undefined && heartbeat.capability_changes !== null,
      resync: ack.resync,
    });
    return { ok: true, value: ack };
  }

  private assemble(): AssembledQueen {
    this.#generation++;
    const generation = this.#generation;
    const startedAt = this.scheduler.now();
    const clock = createQueenClock({
      base: { now: () => this.scheduler.now() - startedAt, wallNow: () => WALL_BASE + this.scheduler.now() },
      timers: this.#timers,
      // Simulated timers are never late: a coarse tick finds every stall at a fraction of the events.
      tickMs: SIM_TICK_MS,
      toleranceMs: SIM_TICK_MS,
      maxHoldMs: this.settings.offlineAfterMs,
    });
    this.#clock = clock;
    const queen = assembleQueen({
      settings: this.settings,
      streamIntervalMs: 2_500,
      logger: silentLogger,
      queenEpoch: `q-sim-${generation}`,
      clock,
      timers: this.#timers,
    });
    queen.registry.onChanges((kind, changes) => {
      if (kind !== 'hive') return;
      for (const change of changes) {
        if (change.type !== 'liveness') continue;
        const seenAt = queen.registry.hives.get(change.id)?.seenAt ?? null;
        this.transitions.push({
          at: this.scheduler.now(),
          queen: generation,
          id: change.id,
          from: change.from,
          to: change.to,
          reason: change.reason,
          silentMs: seenAt === null || change.to === 'online' ? null : queen.registry.clock.now() - seenAt,
        });
      }
    });
    return queen;
  }
}

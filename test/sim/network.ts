import type { HiveHeartbeat } from '../../contracts/heartbeat.js';
import { fail } from '../../machines/result.js';
import type { SendOutcome } from '../../machines/send-outcome.js';
import { between, type Random } from './random.js';
import type { Scheduler } from './scheduler.js';

/** How the simulated network between the hives and the queen behaves; every time in simulated ms. */
export interface NetworkSettings {
  /** One-way delay, drawn uniformly from [min, max] per direction and per message. */
  minDelayMs: number;
  maxDelayMs: number;
  /** Share of requests lost on the way to the queen: the queen never sees them, the hive times out. */
  lossRate: number;
  /** The hive's `--request-timeout`: a send without an answer fails after this long. */
  requestTimeoutMs: number;
}

export const DEFAULT_NETWORK: NetworkSettings = {
  minDelayMs: 1,
  maxDelayMs: 20,
  lossRate: 0,
  requestTimeoutMs: 5_000,
};

/** The far end of the network: the queen takes one heartbeat and answers it. */
export interface Receiver {
  exchange(heartbeat: HiveHeartbeat): Promise<SendOutcome>;
}

export type NetworkEventKind = 'lost' | 'cut' | 'timeout' | 'aborted' | 'answered';

export interface NetworkEvent {
  at: number;
  hiveId: string;
  kind: NetworkEventKind;
}

/**
 * No sockets: a hive's `post` reaches the queen after a random delay on the simulated clock and its answer comes back
 * after another, unless the request is lost at random or the hive is cut off by a partition (then, as with a real
 * black hole, the hive learns nothing until its request timeout).
 */
export class SimNetwork {
  readonly settings: NetworkSettings;
  readonly events: NetworkEvent[] = [];
  readonly #cut = new Set<string>();

  constructor(
    private readonly scheduler: Scheduler,
    private readonly random: Random,
    private readonly receiver: Receiver,
    settings: Partial<NetworkSettings> = {},
  ) {
    this.settings = { ...DEFAULT_NETWORK, ...settings };
  }

  /** From now on `hiveIds` reach nothing and hear nothing, also answers already on their way. */
  partition(hiveIds: Iterable<string>): void {
    for (const id of hiveIds) this.#cut.add(id);
  }

  heal(hiveIds: Iterable<string>): void {
    for (const id of hiveIds) this.#cut.delete(id);
  }

  setLossRate(rate: number): void {
    this.settings.lossRate = rate;
  }

  delay(): number {
    return between(this.random, this.settings.minDelayMs, this.settings.maxDelayMs);
  }

  /** The transport of one hive heartbeat, shaped as the sender's `post`; never rejects. */
  post(heartbeat: HiveHeartbeat, signal: AbortSignal): Promise<SendOutcome> {
    const hiveId = heartbeat.hive_id;
    return new Promise<SendOutcome>((resolve) => {
      let done = false;
      const finish = (kind: NetworkEventKind, outcome: SendOutcome): void => {
        if (done) return;
        done = true;
        this.scheduler.clearTimeout(deadline);
        signal.removeEventListener('abort', onAbort);
        this.events.push({ at: this.scheduler.now(), hiveId, kind });
        resolve(outcome);
      };
      const deadline = this.scheduler.setTimeout(
        () => finish('timeout', fail({ kind: 'timeout', message: 'no answer within the request timeout' })),
        this.settings.requestTimeoutMs,
      );
      const onAbort = (): void => finish('aborted', fail({ kind: 'aborted', message: 'send aborted' }));
      signal.addEventListener('abort', onAbort, { once: true });

      if (this.#cut.has(hiveId)) return this.note(hiveId, 'cut');
      if (this.random() < this.settings.lossRate) return this.note(hiveId, 'lost');
      this.scheduler.setTimeout(() => {
        if (this.#cut.has(hiveId)) return this.note(hiveId, 'cut');
        void this.receiver.exchange(heartbeat).then((outcome) => {
          this.scheduler.setTimeout(() => {
            if (this.#cut.has(hiveId)) this.note(hiveId, 'cut');
            else finish('answered', outcome);
          }, this.delay());
        });
      }, this.delay());
    });
  }

  private note(hiveId: string, kind: NetworkEventKind): void {
    this.events.push({ at: this.scheduler.now(), hiveId, kind });
  }
}

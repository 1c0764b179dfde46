import { QUEEN_PATHS } from '../../contracts/paths.js';
import { StreamEvent } from '../../contracts/stream.js';
import { authHeaders } from './queen-api.js';
import { eventually } from './role-process.js';
import { SseReader } from './sse-reader.js';

/** Everything a queen's live stream says from the moment it is opened, each event checked against the contract. */

export interface RecordedEvent {
  /** `Date.now()` in the test when the event was read. */
  at: number;
  event: StreamEvent;
}

export class StreamRecorder {
  readonly events: RecordedEvent[] = [];
  /** Set when the stream ended or carried something off-contract. */
  failure: unknown;
  private constructor(private readonly controller: AbortController) {}

  /** Resolves once the first message, the snapshot, is in. */
  static async open(queenUrl: string, token?: string): Promise<StreamRecorder> {
    const controller = new AbortController();
    const recorder = new StreamRecorder(controller);
    const response = await fetch(`${queenUrl}${QUEEN_PATHS.stream}`, {
      headers: authHeaders(token),
      signal: controller.signal,
    });
    if (!response.ok) throw new Error(`GET ${QUEEN_PATHS.stream}: ${response.status}`);
    void recorder.read(new SseReader(response.body));
    await eventually(() => (recorder.events.length > 0 ? true : undefined), 'the stream snapshot');
    return recorder;
  }

  /** The first recorded event for which `pick` returns a value, waiting for it up to `timeoutMs`. */
  waitFor<T>(pick: (event: StreamEvent) => T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
    return eventually(
      () => {
        if (this.failure !== undefined) throw this.failure;
        for (const { event } of this.events) {
          const picked = pick(event);
          if (picked !== undefined) return picked;
        }
        return undefined;
      },
      what,
      timeoutMs,
    );
  }

  close(): void {
    this.controller.abort();
  }

  private async read(reader: SseReader): Promise<void> {
    try {
      for (let message = await reader.next(); message; message = await reader.next()) {
        if (message.comment === undefined) this.events.push({ at: Date.now(), event: StreamEvent.parse(message.data) });
      }
      this.failure = new Error('the stream ended');
    } catch (error) {
      if (!this.controller.signal.aborted) this.failure = error;
    }
  }
}

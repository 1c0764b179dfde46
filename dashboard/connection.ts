import type { StreamEvent } from '../contracts/stream.js';
import type { ConnectionState } from './connection-state.js';
import { parseStreamEvent } from './events.js';

export interface StreamOptions {
  readonly url: string;
  /** The SSE event name every message carries. */
  readonly eventName: string;
  readonly onEvent: (event: StreamEvent) => void;
  readonly onState: (state: ConnectionState) => void;
}

/** Backoff for a stream the browser gave up on (an HTTP error answer); network drops are retried by EventSource. */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 15_000;

/** Keeps one EventSource open to the queen's stream, reopening it whenever it closes for good. */
export function connectStream(options: StreamOptions): void {
  let retryMs = RETRY_MIN_MS;

  const open = (): void => {
    const source = new EventSource(options.url);
    source.addEventListener(options.eventName, (message) => {
      const event = parseStreamEvent(message.data);
      if (!event) {
        console.warn('apiary dashboard: ignored a malformed stream message');
        return;
      }
      if (event.type === 'snapshot') {
        retryMs = RETRY_MIN_MS;
        options.onState('live');
      }
      options.onEvent(event);
    });
    source.addEventListener('error', () => {
      options.onState('reconnecting');
      if (source.readyState !== EventSource.CLOSED) return;
      setTimeout(open, retryMs);
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
    });
  };

  open();
}

/** The stream URL, carrying the page's `?token=` since EventSource cannot send an Authorization header. */
export function streamUrl(path: string, pageUrl: string): string {
  const url = new URL(path, pageUrl);
  const token = new URL(pageUrl).searchParams.get('token');
  if (token !== null) url.searchParams.set('token', token);
  return url.toString();
}

import type { WebhookAlert } from '../../contracts/alert.js';
import type { Logger } from '../logger.js';
import { type AlertInput, problemChange } from './alert-input.js';
import { createProblemTracker } from './problem-tracker.js';
import { createWebhookSender } from './webhook-sender.js';

export interface AlertsOptions {
  webhooks: readonly string[];
  token?: string | undefined;
  debounceMs: number;
  backoffMs: readonly number[];
  timeoutMs: number;
  logger: Logger;
  now?: () => Date;
  fetch?: typeof fetch;
  /** Told how many alerts a receiver's full queue dropped. */
  onDropped?: (count: number) => void;
}

export interface Alerts {
  /** Returns at once: judging is a map lookup, sending happens later and elsewhere. */
  observe(input: AlertInput): void;
  /** The `open` alerts sent for problems not resolved yet. */
  open(): WebhookAlert[];
  /** Takes over the problems the previous leader had opened, to resolve them when their condition clears. */
  adopt(open: readonly WebhookAlert[]): void;
  /** Told every change of the open problems (to keep them where a successor finds them); returns the unsubscribe. */
  onOpenChange(listener: (open: WebhookAlert[]) => void): () => void;
  stop(): void;
}

/** Problems opened and resolved by what the queen observes, POSTed to every webhook. */
export function createAlerts(options: AlertsOptions): Alerts {
  const sender = createWebhookSender({
    urls: options.webhooks,
    token: options.token,
    backoffMs: options.backoffMs,
    timeoutMs: options.timeoutMs,
    logger: options.logger,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.onDropped ? { onDropped: options.onDropped } : {}),
  });
  const listeners = new Set<(open: WebhookAlert[]) => void>();
  const tracker = createProblemTracker({
    debounceMs: options.debounceMs,
    onAlert: (alert) => sender.send(alert),
    onOpenChange: (open) => {
      for (const listener of listeners) listener(open);
    },
    ...(options.now ? { now: options.now } : {}),
  });
  return {
    observe(input) {
      const change = problemChange(input);
      if (change) tracker.change(change);
    },
    open: () => tracker.open(),
    adopt: (open) => tracker.adopt(open),
    onOpenChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop() {
      tracker.stop();
      sender.stop();
    },
  };
}

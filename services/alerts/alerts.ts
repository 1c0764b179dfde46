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
  const tracker = createProblemTracker({
    debounceMs: options.debounceMs,
    onAlert: (alert) => sender.send(alert),
    ...(options.now ? { now: options.now } : {}),
  });
  return {
    observe(input) {
      const change = problemChange(input);
      if (change) tracker.change(change);
    },
    stop() {
      tracker.stop();
      sender.stop();
    },
  };
}

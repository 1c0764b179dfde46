import { WebhookAlert } from '../../contracts/alert.js';
import { type AlertInput, type Alerts, createAlerts } from '../../services/alerts/index.js';
import { silentLogger } from '../../services/logger.js';

/** A stand-in for the alerts that records what the queen tells them, and what it hands over at a takeover. */
export function recordingAlerts(seen: AlertInput[], adopted: WebhookAlert[][] = []): Alerts {
  return {
    observe: (input) => seen.push(input),
    open: () => adopted.at(-1) ?? [],
    adopt: (open) => adopted.push([...open]),
    onOpenChange: () => () => {},
    stop: () => {},
  };
}

/** The real alerts, POSTed at once (no debounce) to a receiver that records what it is sent. */
export function webhookAlerts(sent: WebhookAlert[]): Alerts {
  return createAlerts({
    webhooks: ['http://alerts.test/hook'],
    debounceMs: 0,
    backoffMs: [0],
    timeoutMs: 5_000,
    logger: silentLogger,
    fetch: async (input) => {
      if (input instanceof Request) sent.push(WebhookAlert.parse(await input.json()));
      return new Response(null, { status: 204 });
    },
  });
}

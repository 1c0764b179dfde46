import type { WebhookAlert } from '../../contracts/alert.js';
import type { AlertInput, Alerts } from '../../services/alerts/index.js';

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

export { type AlertInput, type ProblemChange, problemChange } from './alert-input.js';
export { type Alerts, type AlertsOptions, createAlerts } from './alerts.js';
export { createProblemTracker, type ProblemTracker } from './problem-tracker.js';
export { SIGNATURE_HEADER, signBody } from './signature.js';
export { createWebhookSender, type WebhookSender } from './webhook-sender.js';

import { setTimeout as sleep } from 'node:timers/promises';
import ky from 'ky';
import type { WebhookAlert } from '../../contracts/alert.js';
import { LIMITS } from '../../contracts/common.js';
import type { Logger } from '../logger.js';
import { SIGNATURE_HEADER, signBody } from './signature.js';

export interface WebhookSenderOptions {
  urls: readonly string[];
  /** Signs every body (`x-apiary-signature`) when set. */
  token?: string | undefined;
  /** The wait before each attempt at one alert: `[0, 2000, 4000, 8000, 16000]` tries five times. */
  backoffMs: readonly number[];
  /** Bound on one attempt, answer included. */
  timeoutMs: number;
  /** Alerts waiting per URL beyond this drop the oldest (default `LIMITS.webhookQueue`). */
  queueLimit?: number;
  logger: Logger;
  fetch?: typeof fetch;
  /** Told of each alert a full queue dropped. */
  onDropped?: (count: number) => void;
}

export interface WebhookSender {
  /** Queues the alert for every URL and returns at once. */
  send(alert: WebhookAlert): void;
  /** Abandons what is queued and in flight. */
  stop(): void;
}

/** One receiver: its waiting alerts, whether one is being delivered, and its trouble so far. */
interface Target {
  url: string;
  queue: WebhookAlert[];
  busy: boolean;
  /** The last alert failed every attempt: logged once until one gets through. */
  failing: boolean;
  /** Alerts dropped since the queue last drained. */
  dropped: number;
}

/**
 * POSTs alerts to each webhook in order, one at a time per URL, retried with the backoff, off every caller's path:
 * a receiver that is down or hangs only fills its own bounded queue. Logs a receiver's trouble once, and its recovery.
 */
export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const { logger, timeoutMs } = options;
  const limit = options.queueLimit ?? LIMITS.webhookQueue;
  const stop = new AbortController();
  const http = ky.create({
    retry: 0,
    timeout: false,
    throwHttpErrors: false,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const targets = options.urls.map((url): Target => ({ url, queue: [], busy: false, failing: false, dropped: 0 }));

  async function attempt(url: string, body: string): Promise<string | null> {
    const deadline = AbortSignal.any([stop.signal, AbortSignal.timeout(timeoutMs)]);
    try {
      const response = await http.post(url, {
        body,
        headers: {
          'content-type': 'application/json',
          ...(options.token ? { [SIGNATURE_HEADER]: signBody(body, options.token) } : {}),
        },
        signal: deadline,
      });
      await response.body?.cancel();
      return response.ok ? null : `status ${response.status}`;
    } catch (error) {
      if (deadline.aborted && !stop.signal.aborted) return `no answer within ${timeoutMs} ms`;
      return error instanceof Error ? (errorCode(error) ?? error.message) : String(error);
    }
  }

  async function deliver(target: Target, alert: WebhookAlert): Promise<void> {
    const body = JSON.stringify(alert);
    let problem: string | null = 'not tried';
    for (const waitMs of options.backoffMs) {
      if (waitMs > 0) await sleep(waitMs, undefined, { signal: stop.signal }).catch(() => undefined);
      if (stop.signal.aborted) return;
      problem = await attempt(target.url, body);
      if (problem === null) break;
    }
    if (problem === null) {
      if (target.failing) logger.info('webhook delivering again', { url: target.url });
      target.failing = false;
    } else if (!target.failing) {
      target.failing = true;
      logger.warn('webhook delivery failed after every retry; later failures are not logged until it recovers', {
        url: target.url,
        event: alert.event,
        problem,
      });
    }
  }

  async function drain(target: Target): Promise<void> {
    target.busy = true;
    for (let alert = target.queue.shift(); alert && !stop.signal.aborted; alert = target.queue.shift()) {
      await deliver(target, alert);
    }
    target.busy = false;
    if (target.dropped > 0) logger.info('webhook queue drained', { url: target.url, dropped: target.dropped });
    target.dropped = 0;
  }

  return {
    send(alert) {
      if (stop.signal.aborted) return;
      for (const target of targets) {
        target.queue.push(alert);
        if (target.queue.length > limit) {
          target.queue.shift();
          target.dropped += 1;
          options.onDropped?.(1);
          if (target.dropped === 1) logger.warn('webhook queue full: dropping the oldest alerts', { url: target.url });
        }
        if (!target.busy) void drain(target);
      }
    },
    stop: () => stop.abort(),
  };
}

function errorCode(error: Error): string | undefined {
  const cause = error.cause;
  return cause instanceof Error && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
}

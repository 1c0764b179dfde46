import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { WebhookAlert } from '../../../contracts/alert.js';
import { createWebhookSender, type WebhookSender } from '../../../services/alerts/webhook-sender.js';
import { createLogger, type Logger } from '../../../services/logger.js';
import { refusedUrl } from '../../support/loopback-server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';

const WAIT = { timeout: 15_000, interval: 10 };
const LogLine = z.object({ level: z.string(), msg: z.string(), dropped: z.number().optional() });

let receiver: WebhookReceiver;
let sender: WebhookSender | undefined;
let logs: z.infer<typeof LogLine>[];
let logger: Logger;

beforeEach(async () => {
  receiver = await startWebhookReceiver();
  logs = [];
  logger = createLogger({ level: 'debug', write: (line) => logs.push(LogLine.parse(JSON.parse(line))) });
});

afterEach(() => {
  sender?.stop();
  sender = undefined;
});

function alert(id: string, state: 'open' | 'resolved' = 'open'): WebhookAlert {
  return {
    event: 'hive_offline',
    state,
    kind: 'hive',
    id,
    time: '2026-01-01T00:00:00.000Z',
    reason: 'missed heartbeats',
  };
}

function start(
  urls: string[],
  extra: {
    token?: string;
    backoffMs?: number[];
    queueLimit?: number;
    timeoutMs?: number;
    onDropped?: (count: number) => void;
  } = {},
) {
  sender = createWebhookSender({ urls, backoffMs: [0, 20, 40], timeoutMs: 5_000, logger, ...extra });
  return sender;
}

describe('createWebhookSender', () => {
  it('posts each alert in order, signed with HMAC-SHA256 of the body under the token', async () => {
    start([receiver.url], { token: 's3cret' }).send(alert('a'));
    sender?.send(alert('a', 'resolved'));
    await vi.waitFor(() => expect(receiver.received).toHaveLength(2), WAIT);
    expect(receiver.received.map((r) => r.alert)).toEqual([alert('a'), alert('a', 'resolved')]);
    for (const { body, signature } of receiver.received) {
      expect(signature).toBe(`sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`);
      expect(signature).not.toBe(`sha256=${createHmac('sha256', 'other').update(body).digest('hex')}`);
    }
  });

  it('sends no signature without a token', async () => {
    start([receiver.url]).send(alert('a'));
    await vi.waitFor(() => expect(receiver.received).toHaveLength(1), WAIT);
    expect(receiver.received[0]?.signature).toBeUndefined();
  });

  it('retries with the backoff until the receiver answers, and logs its trouble once', async () => {
    receiver.behave('fail');
    start([receiver.url], { backoffMs: [0, ...Array.from({ length: 100 }, () => 50)] });
    sender?.send(alert('a'));
    await vi.waitFor(() => expect(receiver.requests()).toBeGreaterThanOrEqual(3), WAIT);
    expect(receiver.received).toEqual([]);
    receiver.behave('ok');
    await vi.waitFor(() => expect(receiver.received.map((r) => r.alert)).toEqual([alert('a')]), WAIT);
    expect(logs.filter((line) => line.level === 'warn')).toEqual([]);
  });

  it('gives up after the last attempt with one warning, then says when the receiver is back', async () => {
    const down = `${await refusedUrl()}/hook`;
    start([down]);
    for (const id of ['a', 'b', 'c']) sender?.send(alert(id));
    await vi.waitFor(
      () => expect(logs.filter((line) => line.msg.includes('webhook delivery failed'))).toHaveLength(1),
      WAIT,
    );
    await new Promise((resolve) => setImmediate(resolve));
    start([receiver.url]).send(alert('d'));
    await vi.waitFor(() => expect(receiver.received).toHaveLength(1), WAIT);
    expect(logs.filter((line) => line.level === 'warn')).toHaveLength(1);
  });

  it('keeps a hanging receiver from holding up another, and drops its oldest alerts beyond the bound', async () => {
    const hanging = await startWebhookReceiver();
    hanging.behave('hang');
    let dropped = 0;
    const onDropped = (count: number): void => {
      dropped += count;
    };
    // The hanging request is released by the test, never by the timeout, whatever the load.
    start([hanging.url, receiver.url], { queueLimit: 2, backoffMs: [0], timeoutMs: 600_000, onDropped });
    for (const id of ['a', 'b', 'c', 'd', 'e']) sender?.send(alert(id));
    await vi.waitFor(() => expect(receiver.received).toHaveLength(3), WAIT);
    expect(hanging.hanging()).toBe(1);
    // Each queue: `a` taken at once, `b` and `c` dropped for `d` and `e`, logged once per receiver.
    expect(receiver.received.map((r) => r.alert.id)).toEqual(['a', 'd', 'e']);
    expect(logs.filter((line) => line.msg.includes('webhook queue full'))).toHaveLength(2);
    expect(dropped).toBe(4);
    hanging.behave('ok');
    hanging.release();
    await vi.waitFor(() => expect(hanging.received.map((r) => r.alert.id)).toEqual(['d', 'e']), WAIT);
    const drained = () => logs.filter((line) => line.msg.includes('webhook queue drained'));
    await vi.waitFor(() => expect(drained().map((line) => line.dropped)).toEqual([2, 2]), WAIT);
  });
});

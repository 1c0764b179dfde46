import { createHmac, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import { HiveView } from '../../contracts/registry.js';
import { periodicHeartbeat } from '../fixtures/examples.js';
import { eventually, killAll, type RoleProcess, startRole } from '../support/role-process.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const TOKEN = 'webhook-token';
const auth = { authorization: `Bearer ${TOKEN}` };
const QUEEN_TIMINGS = [
  ...['--heartbeat-interval', '200ms', '--suspect-after', '600ms', '--offline-after', '1200ms'],
  ...['--forget-after', '1m', '--no-discovery', '--token', TOKEN],
];
const HIVE_TIMINGS = ['--heartbeat-interval', '200ms', '--request-timeout', '500ms', '--jitter', '0'];

let dir = '';

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'apiary-webhooks-'));
});

afterEach(async () => {
  killAll();
  await rm(dir, { recursive: true, force: true });
});

function startHive(queen: RoleProcess, hiveId: string): Promise<RoleProcess> {
  return startRole('hive', [
    ...['--port', '0', '--hive-id', hiveId, '--queen-url', queen.url, '--token', TOKEN],
    ...['--models-dir', path.join(dir, 'models'), '--workers-dir', path.join(dir, 'workers'), ...HIVE_TIMINGS],
    // Its identity survives a restart, as a real hive's does.
    ...['--state-dir', path.join(dir, 'state', hiveId)],
  ]);
}

async function liveness(queen: RoleProcess, hiveId: string): Promise<string | undefined> {
  const response = await fetch(`${queen.url}${QUEEN_PATHS.hives}/${hiveId}`, { headers: auth });
  return response.ok ? HiveView.parse(await response.json()).liveness : undefined;
}

const states = (hook: WebhookReceiver, id: string) =>
  hook.received.filter((r) => r.alert.id === id).map((r) => `${r.alert.event} ${r.alert.state}`);

describe('queen webhooks', () => {
  it('posts one open and one resolved, signed, for a hive killed and restarted; a dead or hung receiver slows nothing', async () => {
    const [hook, hung] = [await startWebhookReceiver(), await startWebhookReceiver()];
    hung.behave('hang');
    const refused = `http://127.0.0.1:1/hook`;
    const queen = await startRole('queen', [
      ...['--port', '0', ...QUEEN_TIMINGS, '--webhook-debounce', '1s'],
      ...['--webhook', hook.url, '--webhook', refused, '--webhook', hung.url],
    ]);
    const hiveId = `hive-${randomUUID().slice(0, 8)}`;
    const first = await startHive(queen, hiveId);
    await eventually(async () => ((await liveness(queen, hiveId)) === 'online' ? true : undefined), 'hive online');

    first.child.kill('SIGKILL');
    await first.exited;
    const opened = await eventually(
      () => (states(hook, hiveId).length > 0 ? hook.received : undefined),
      'open',
      10_000,
    );
    expect(states(hook, hiveId)).toEqual(['hive_offline open']);
    expect(opened[0]?.alert).toMatchObject({ kind: 'hive', id: hiveId, reason: 'missed heartbeats' });

    // The hung receiver holds the open alert's request; heartbeats are still answered at once.
    await eventually(() => (hung.hanging() > 0 ? true : undefined), 'a request held by the hung receiver');
    const beat = await fetch(`${queen.url}${QUEEN_PATHS.hiveHeartbeat}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ ...periodicHeartbeat, hive_id: `other-${hiveId}`, timestamp: new Date().toISOString() }),
    });
    expect(beat.status).toBe(200);
    expect(hung.hanging()).toBeGreaterThan(0);

    await startHive(queen, hiveId);
    await eventually(() => (states(hook, hiveId).length > 1 ? true : undefined), 'resolved', 10_000);
    expect(states(hook, hiveId)).toEqual(['hive_offline open', 'hive_offline resolved']);
    for (const { body, signature } of hook.received) {
      expect(signature).toBe(`sha256=${createHmac('sha256', TOKEN).update(body).digest('hex')}`);
    }
  });

  it('posts nothing for a hive that is offline for less than the debounce', async () => {
    const hook = await startWebhookReceiver();
    const queen = await startRole('queen', [
      ...['--port', '0', ...QUEEN_TIMINGS, '--webhook-debounce', '4s', '--webhook', hook.url],
    ]);
    const flapping = `flap-${randomUUID().slice(0, 8)}`;
    const hive = await startHive(queen, flapping);
    await eventually(async () => ((await liveness(queen, flapping)) === 'online' ? true : undefined), 'hive online');
    // Paused until the queen calls it offline, then back: a flap.
    hive.child.kill('SIGSTOP');
    await eventually(async () => ((await liveness(queen, flapping)) === 'offline' ? true : undefined), 'offline');
    hive.child.kill('SIGCONT');
    await eventually(async () => ((await liveness(queen, flapping)) === 'online' ? true : undefined), 'back online');

    // A real outage begun after the flap: its open alert comes after any the flap could have caused.
    const down = `down-${randomUUID().slice(0, 8)}`;
    const other = await startHive(queen, down);
    await eventually(async () => ((await liveness(queen, down)) === 'online' ? true : undefined), 'second hive');
    other.child.kill('SIGKILL');
    await eventually(() => (states(hook, down).length > 0 ? true : undefined), 'the outage alert', 15_000);
    expect(hook.received.map((r) => `${r.alert.event} ${r.alert.id} ${r.alert.state}`)).toEqual([
      `hive_offline ${down} open`,
    ]);
  });
});

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LIMITS } from '../../contracts/common.js';
import { EventPage } from '../../contracts/events.js';
import { ErrorBody } from '../../contracts/heartbeat.js';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import { HiveView } from '../../contracts/registry.js';
import { fatHeartbeat } from '../fixtures/examples.js';
import { eventually, killAll, type RoleProcess, startRole } from '../support/role-process.js';

/** docs/protocol.md's limits, attacked by a real client: distinct hives with fat capabilities until refused. */

/** Capabilities held over all hives: shrunk so that the cap is reached within a few dozen heartbeats. */
const MAX_CAPABILITY_BYTES = 8_000_000;
/** The contract's bound on a queen at its defaults. */
const MAX_RSS_BYTES = 1.5 * 1024 ** 3;
const PARALLEL = 8;
const MOST_HEARTBEATS = 200;

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'apiary-flood-'));
});
afterEach(async () => {
  killAll();
  await rm(dir, { recursive: true, force: true });
});

/** Nine tenths of what one hive may hold. */
const fat = (index: number): string => JSON.stringify(fatHeartbeat(`flood-${index}`, LIMITS.capabilityBytes * 0.9));

const post = (queen: RoleProcess, body: string): Promise<Response> =>
  fetch(`${queen.url}${QUEEN_PATHS.hiveHeartbeat}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error('no VmRSS');
  return Number(kib) * 1024;
}

describe('queen flood', () => {
  it('refuses fat hives with 503 and retry-after once its capability bytes are held, keeps its RSS bounded, /health and a real hive alive', async () => {
    const queen = await startRole('queen', [
      ...['--port', '0', '--no-discovery', '--max-capability-bytes', String(MAX_CAPABILITY_BYTES)],
      ...['--heartbeat-interval', '500ms', '--suspect-after', '10s', '--offline-after', '20s'],
    ]);
    const hive = await startRole('hive', [
      ...['--port', '0', '--hive-id', 'real-hive', '--queen-url', queen.url, '--heartbeat-interval', '500ms'],
      ...['--models-dir', path.join(dir, 'models'), '--workers-dir', path.join(dir, 'workers')],
    ]);
    await eventually(async () => {
      const response = await fetch(`${queen.url}${QUEEN_PATHS.hives}/real-hive`);
      return response.ok && HiveView.parse(await response.json()).liveness === 'online' ? true : undefined;
    }, 'the real hive online');

    let sent = 0;
    let refusal: Response | undefined;
    while (refusal === undefined && sent < MOST_HEARTBEATS) {
      const answers = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => post(queen, fat(sent + i))));
      sent += PARALLEL;
      for (const answer of answers) {
        if (answer.status === 200) await answer.body?.cancel();
        else if (refusal === undefined) refusal = answer;
        else await answer.body?.cancel();
      }
      expect((await fetch(`${queen.url}${QUEEN_PATHS.health}`)).status).toBe(200);
    }
    if (!refusal) throw new Error(`${sent} fat hives were all taken`);
    expect(refusal.status).toBe(503);
    expect(refusal.headers.get('retry-after')).toBe('60');
    expect(ErrorBody.parse(await refusal.json()).error).toContain('--max-capability-bytes');
    // Full, it stays full: more fat hives are refused, /health answers, and the process holds what it held.
    const more = await post(queen, fat(MOST_HEARTBEATS));
    expect(more.status).toBe(503);
    expect((await fetch(`${queen.url}${QUEEN_PATHS.health}`)).status).toBe(200);
    const rss = await rssBytes(queen.pid);
    console.log(`queen RSS at its cap of ${MAX_CAPABILITY_BYTES} capability bytes: ${(rss / 1024 ** 2).toFixed(0)} MB`);
    expect(rss).toBeLessThan(MAX_RSS_BYTES);
    // The real hive kept heartbeating through it all and was never judged otherwise.
    const events = EventPage.parse(
      await (await fetch(`${queen.url}${QUEEN_PATHS.events}?kind=hive&id=real-hive`)).json(),
    );
    expect(events.events.filter((event) => event.type === 'liveness')).toEqual([]);
    expect(hive.child.exitCode).toBeNull();
  }, 60_000);
});

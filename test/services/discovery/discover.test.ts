import { afterEach, describe, expect, it, vi } from 'vitest';
import { LIMITS } from '../../../contracts/common.js';
import { type DiscoveryOutcome, discoverHives } from '../../../services/discovery/discover.js';
import { hiveTargets } from '../../../services/discovery/targets.js';
import { capabilitiesOf, type HiveServers, startHiveServers } from './hive-servers.js';

const QUEEN_URL = 'http://127.0.0.1:7833';
const TOKEN = 'discovery-token';

let servers: HiveServers | undefined;
afterEach(async () => {
  await servers?.close();
  servers = undefined;
});

function summary(outcomes: DiscoveryOutcome[]): Record<string, string> {
  return Object.fromEntries(outcomes.map((o) => [o.target.alias, o.ok ? `ok ${o.value.hive_id}` : o.error.kind]));
}

describe('pull discovery', () => {
  it('asks every host of the config once, with the queen URL and the token, and validates the answers', async () => {
    servers = await startHiveServers({
      '127.0.0.2': { kind: 'answer', hiveId: 'gpu-a', token: TOKEN },
      '127.0.0.3': { kind: 'invalid' },
      '127.0.0.4': { kind: 'answer', hiveId: 'gpu-c', token: 'another-token' },
    });
    const targets = hiveTargets(`
Host hive-a
  HostName 127.0.0.2
Host hive-a-again
  HostName 127.0.0.2
Host hive-b
  HostName 127.0.0.3
Host hive-c
  HostName 127.0.0.4
Host hive-gone
  HostName 127.0.0.9
Host hive-*
  HostName 127.0.0.5
`);
    const outcomes = await discoverHives({
      targets,
      hivePort: servers.port,
      queenUrl: QUEEN_URL,
      token: TOKEN,
      timeoutMs: 2_000,
    });
    expect(summary(outcomes)).toEqual({
      'hive-a': 'ok gpu-a',
      'hive-b': 'failed',
      'hive-c': 'failed',
      'hive-gone': 'failed',
    });
    const answered = outcomes.find((o) => o.ok);
    expect(answered?.ok && answered.value).toEqual(capabilitiesOf('gpu-a'));
    expect(answered?.hiveUrl).toBe(`http://127.0.0.2:${servers.port}`);
    const errors = Object.fromEntries(outcomes.map((o) => [o.target.alias, o.ok ? '' : o.error.message]));
    expect(errors['hive-b']).toContain('not valid capabilities');
    expect(errors['hive-c']).toContain('HTTP 401');
    expect(errors['hive-gone']).toContain('ECONNREFUSED');
    expect(servers.requests.get('127.0.0.2')).toEqual([
      { path: '/capabilities', queenUrl: QUEEN_URL, authorization: `Bearer ${TOKEN}` },
    ]);
    for (const host of ['127.0.0.3', '127.0.0.4']) expect(servers.requests.get(host)).toHaveLength(1);
  });

  it('reads an answer no further than a heartbeat body may go: an endless one fails at the bound, not the timeout', async () => {
    servers = await startHiveServers({ '127.0.0.2': { kind: 'endless' } });
    const [outcome] = await discoverHives({
      targets: hiveTargets('Host hive-a\n  HostName 127.0.0.2\n'),
      hivePort: servers.port,
      queenUrl: QUEEN_URL,
      timeoutMs: 20_000,
    });
    expect(outcome?.ok).toBe(false);
    expect(outcome && !outcome.ok && outcome.error.message).toContain(`larger than ${LIMITS.bodyBytes} bytes`);
  });

  it('asks all hosts at once: hosts that never answer cost one timeout in total, not one each', async () => {
    servers = await startHiveServers({
      '127.0.0.2': { kind: 'hang' },
      '127.0.0.3': { kind: 'hang' },
      '127.0.0.4': { kind: 'hang' },
      '127.0.0.5': { kind: 'answer', hiveId: 'quick' },
    });
    const targets = ['2', '3', '4', '5'].map((n) => ({ alias: `h${n}`, hostName: `127.0.0.${n}` }));
    const started = performance.now();
    // A timeout long enough for the quick host to answer on a loaded machine; asked one by one, the three that
    // hang would cost three of it.
    const timeoutMs = 2_000;
    const outcomes = await discoverHives({ targets, hivePort: servers.port, queenUrl: QUEEN_URL, timeoutMs });
    const elapsed = performance.now() - started;
    expect(summary(outcomes)).toEqual({ h2: 'failed', h3: 'failed', h4: 'failed', h5: 'ok quick' });
    expect(outcomes.find((o) => !o.ok && o.error.message.includes(`within ${timeoutMs} ms`))).toBeDefined();
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 10);
    expect(elapsed).toBeLessThan(2 * timeoutMs);
  });

  it('never sends a loopback queen URL to a hive that is not on loopback', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>();
    const outcomes = await discoverHives({
      targets: [
        { alias: 'remote', hostName: 'gpu-9.lab.example' },
        { alias: 'remote-ip', hostName: '192.0.2.7' },
      ],
      hivePort: 7835,
      queenUrl: QUEEN_URL,
      timeoutMs: 1_000,
      fetch,
    });
    expect(fetch).not.toHaveBeenCalled();
    expect(summary(outcomes)).toEqual({ remote: 'skipped', 'remote-ip': 'skipped' });
    const [first] = outcomes;
    expect(first && !first.ok && first.error.message).toContain('--advertise-url');
  });
});

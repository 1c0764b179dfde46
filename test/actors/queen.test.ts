import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type QueenHandle, startQueen } from '../../actors/queen.js';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import { HiveList, QueenHealth } from '../../contracts/registry.js';
import { createLogger } from '../../services/logger.js';
import { parseCommandLine, queenOptions } from '../../services/options/index.js';
import { discoveryHeartbeat } from '../fixtures/examples.js';
import { type HiveBehaviour, type HiveServers, startHiveServers } from '../services/discovery/hive-servers.js';
import { DIST_ACTORS, eventually, killAll, startRole } from '../support/role-process.js';

const TOKEN = 'queen-process-token';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  killAll();
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** Opens the stream with plain node:http and resolves once its first message (it comes in pieces) is in. */
function openStream(url: string): Promise<{ first: string; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${url}${QUEEN_PATHS.stream}?token=${TOKEN}`, (response) => {
      response.setEncoding('utf8');
      const ended = new Promise<void>((done) => {
        response.once('end', done);
        response.once('close', done);
      });
      let text = '';
      response.on('data', (chunk: string) => {
        text += chunk;
        const end = text.indexOf('\n\n');
        if (end !== -1) resolve({ first: text.slice(0, end), ended });
      });
    });
    request.once('error', reject);
  });
}

describe('queen process', () => {
  it('prints --help and exits 0', () => {
    const result = spawnSync(process.execPath, [`${DIST_ACTORS}queen.js`, '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('--hives-config');
    expect(result.stdout).toContain('--stream-interval');
  });

  it('refuses a bad flag with exit code 2, naming it', () => {
    const result = spawnSync(process.execPath, [`${DIST_ACTORS}queen.js`, '--suspect-after', 'soon'], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--suspect-after');
  });

  it('starts, answers /health, takes heartbeats, and exits 0 on SIGTERM with a stream open, well before its deadline', async () => {
    const queen = await startRole('queen', ['--port', '0', '--no-discovery', '--token', TOKEN]);
    const health = QueenHealth.parse(await (await fetch(`${queen.url}${QUEEN_PATHS.health}`)).json());
    expect(health).toMatchObject({ status: 'ok', hives: { expected: 0, online: 0 } });
    const posted = await fetch(`${queen.url}${QUEEN_PATHS.hiveHeartbeat}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(discoveryHeartbeat),
    });
    expect(posted.status).toBe(200);
    const stream = await openStream(queen.url);
    expect(stream.first).toContain('"type":"snapshot"');
    expect(stream.first).toContain(discoveryHeartbeat.hive_id);
    const stoppedAt = performance.now();
    queen.child.kill('SIGTERM');
    const exit = await queen.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    // An open stream that held the exit up would reach the deadline (exit 1): this is far below it, with room for a stall.
    expect(performance.now() - stoppedAt).toBeLessThan(2_500);
    await stream.ended;
    expect(queen.logs.some((line) => line.msg === 'liveness' && line.id === discoveryHeartbeat.hive_id)).toBe(true);
    expect(JSON.stringify(queen.logs)).not.toContain(TOKEN);
  });
});

describe('startQueen', () => {
  it('listens on the port the OS gives for 0, discovers the hives of its config, and stops', async () => {
    const servers: HiveServers = await startHiveServers({ '127.0.0.2': { kind: 'answer', hiveId: 'gpu-a' } });
    cleanups.push(servers.close);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'apiary-queen-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const config = path.join(dir, 'config');
    await writeFile(config, 'Host gpu-a\n  HostName 127.0.0.2\nHost gpu-b\n  HostName 127.0.0.9\n');
    const options = parseCommandLine(queenOptions, {
      command: 'apiary-queen',
      summary: '',
      argv: ['--port', '0', '--hives-config', config, '--hive-port', String(servers.port), '--state-dir', 'none'],
      env: { APIARY_DISCOVERY_DELAY: '0', APIARY_DISCOVERY_TIMEOUT: '2s', APIARY_TOKEN: TOKEN },
      exit: (code) => {
        throw new Error(`exit ${code}`);
      },
    });
    const queen: QueenHandle = await startQueen(options, {
      logger: createLogger({ write: () => {} }),
      dashboard: null,
    });
    cleanups.push(() => queen.stop());
    expect(queen.port).toBeGreaterThan(0);
    expect(queen.url).toBe(`http://127.0.0.1:${queen.port}`);
    expect(await queen.discovery).toEqual({ targets: 2, registered: 1, identified: 0, failed: 1, skipped: 0 });
    expect(servers.requests.get('127.0.0.2')?.[0]).toMatchObject({
      queenUrl: queen.url,
      authorization: `Bearer ${TOKEN}`,
    });
    const response = await fetch(`${queen.url}${QUEEN_PATHS.hives}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const { hives } = HiveList.parse(await response.json());
    expect(hives.map((hive) => [hive.hive_id, hive.liveness, hive.expected])).toEqual([
      ['gpu-a', 'online', true],
      ['gpu-b', 'offline', true],
    ]);
    await queen.stop();
    await expect(fetch(`${queen.url}${QUEEN_PATHS.health}`)).rejects.toThrow();
  });

  it("keeps an expected host's placeholder from a heartbeat that only claims its address, and gives it to the hive that answers there", async () => {
    const hosts: Record<string, HiveBehaviour> = { '127.0.0.2': { kind: 'invalid' }, '127.0.0.3': { kind: 'invalid' } };
    const servers = await startHiveServers(hosts);
    cleanups.push(servers.close);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'apiary-queen-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const config = path.join(dir, 'config');
    await writeFile(config, 'Host e1\n  HostName 127.0.0.2\nHost e2\n  HostName 127.0.0.3\n');
    const lines: string[] = [];
    const options = parseCommandLine(queenOptions, {
      command: 'apiary-queen',
      summary: '',
      // No periodic discovery: any later call is the one a claim made.
      argv: ['--port', '0', '--hives-config', config, '--hive-port', String(servers.port), '--state-dir', 'none'],
      env: {
        APIARY_DISCOVERY_DELAY: '0',
        APIARY_DISCOVERY_INTERVAL: '0',
        APIARY_DISCOVERY_TIMEOUT: '2s',
        APIARY_TOKEN: TOKEN,
      },
      exit: (code) => {
        throw new Error(`exit ${code}`);
      },
    });
    const queen = await startQueen(options, {
      logger: createLogger({ level: 'debug', write: (line) => lines.push(line) }),
      dashboard: null,
    });
    cleanups.push(() => queen.stop());
    expect(await queen.discovery).toEqual({ targets: 2, registered: 0, identified: 0, failed: 2, skipped: 0 });
    const claimedUrl = `http://127.0.0.3:${servers.port}`;
    const beat = async (hiveId: string): Promise<number> => {
      const response = await fetch(`${queen.url}${QUEEN_PATHS.hiveHeartbeat}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ ...discoveryHeartbeat, hive_id: hiveId, hive_url: claimedUrl }),
      });
      await response.body?.cancel();
      return response.status;
    };
    const finished = (): number => lines.filter((line) => line.includes('"msg":"discovery finished"')).length;
    const listed = async (): Promise<[string, string, boolean][]> => {
      const response = await fetch(`${queen.url}${QUEEN_PATHS.hives}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      const { hives } = HiveList.parse(await response.json());
      return hives.map((hive) => [hive.hive_id, hive.liveness, hive.expected]);
    };

    // A token holder claims e2's address under its own id: listed as itself, and the queen calls e2's address again.
    expect(await beat('imp')).toBe(200);
    await eventually(() => (finished() === 2 ? true : undefined), 'the address called again, and that run over');
    expect(servers.requests.get('127.0.0.3')).toHaveLength(2);
    expect(await listed()).toEqual([
      ['e1', 'offline', true],
      ['e2', 'offline', true],
      ['imp', 'online', false],
    ]);

    // The hive at that address comes up: its heartbeat claims the address, and its answer there takes e2's place.
    hosts['127.0.0.3'] = { kind: 'answer', hiveId: 'real-e2' };
    expect(await beat('real-e2')).toBe(200);
    await eventually(() => (finished() === 3 ? true : undefined), 'the address called a third time, and that run over');
    expect(await listed()).toEqual([
      ['e1', 'offline', true],
      ['imp', 'online', false],
      ['real-e2', 'online', true],
    ]);
    expect(servers.requests.get('127.0.0.2')).toHaveLength(3);
  });

  it('counts a silent socket closed at --max-connections to let a newcomer in', async () => {
    const options = parseCommandLine(queenOptions, {
      command: 'apiary-queen',
      summary: '',
      argv: ['--port', '0', '--no-discovery', '--state-dir', 'none', '--max-connections', '2'],
      env: { APIARY_TOKEN: TOKEN },
      exit: (code) => {
        throw new Error(`exit ${code}`);
      },
    });
    const queen = await startQueen(options, { logger: createLogger({ write: () => {} }), dashboard: null });
    cleanups.push(() => queen.stop());
    const silent = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<net.Socket>((resolve, reject) => {
            const socket = net.connect(queen.port, '127.0.0.1', () => resolve(socket));
            socket.once('error', reject);
          }),
      ),
    );
    cleanups.push(async () => {
      for (const socket of silent) socket.destroy();
    });
    const response = await fetch(`${queen.url}${QUEEN_PATHS.metrics}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('apiary_overflow_dropped_total{queue="connections"} 1');
  });
});

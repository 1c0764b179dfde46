import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type QueenHandle, startQueen } from '../../actors/queen.js';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import { HiveList, QueenHealth } from '../../contracts/registry.js';
import { createLogger } from '../../services/logger.js';
import { parseCommandLine, queenOptions } from '../../services/options/index.js';
import { discoveryHeartbeat } from '../fixtures/examples.js';
import { type HiveServers, startHiveServers } from '../services/discovery/hive-servers.js';
import { DIST_ACTORS, killAll, startRole } from '../support/role-process.js';

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
});

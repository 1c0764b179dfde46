import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { HiveWorkerList } from '../../contracts/hive-api.js';
import { ChatCompletion } from '../../contracts/inference.js';
import { HIVE_PATHS } from '../../contracts/paths.js';
import { freePort, portAvailable } from '../../services/ports.js';
import { descendants, isRunning } from '../support/process-tree.js';
import { QueenApi } from '../support/queen-api.js';
import { DIST_ACTORS, eventually, killAll, track, withoutApiaryEnv } from '../support/role-process.js';
import { StreamRecorder } from '../support/stream-recorder.js';

/** `npm start`'s launcher (`dist/actors/cluster.js`) as a user runs it: what it prints, what runs, how it stops. */

const LAUNCHER = `${DIST_ACTORS}cluster.js`;
const READY_LINE = 'Ctrl-C stops everything.';

interface Launched {
  child: ChildProcess;
  pid: number;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const launched: Launched[] = [];

afterEach(() => {
  // The roles run in their own process groups: a killed launcher would leave them behind.
  for (const { pid } of launched.splice(0)) {
    for (const descendant of descendants(pid)) track(descendant);
    track(pid);
  }
  killAll();
});

/** A process's command line, its arguments joined by spaces; empty once it is gone. */
function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

function launch(args: readonly string[]): Launched {
  const child = spawn(process.execPath, [LAUNCHER, ...args], {
    env: withoutApiaryEnv(process.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('the launcher did not start');
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = { child, pid, stdout: () => out, stderr: () => err, exited };
  launched.push(started);
  return started;
}

/** Waits for the launcher's summary; fails early with its stderr when it exits first. */
async function summaryOf(cluster: Launched): Promise<string> {
  let exitCode: number | null | undefined;
  void cluster.exited.then((code) => {
    exitCode = code;
  });
  return eventually(
    () => {
      if (exitCode !== undefined) throw new Error(`the launcher exited (${exitCode}): ${cluster.stderr()}`);
      return cluster.stdout().includes(READY_LINE) ? cluster.stdout() : undefined;
    },
    'the cluster summary',
    // Five processes start one after another: on a loaded machine that takes a while.
    40_000,
    50,
  );
}

/** Two consecutive free ports: the launcher gives the queen's inspector the first and hive i the one i after. */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await freePort('127.0.0.1');
    if (port < 65535 && (await portAvailable(port + 1, '127.0.0.1'))) return port;
  }
}

describe('cluster launcher', () => {
  it('runs a queen, 2 hives and a worker each, prints working curl lines, and stops everything on SIGINT', {
    timeout: 90_000,
  }, async () => {
    const port = await freePort('127.0.0.1');
    const cluster = launch(['--port', String(port), '--hives', '2', '--workers', '1', '--heartbeat-interval', '300ms']);
    const summary = await summaryOf(cluster);
    const base = `http://127.0.0.1:${port}`;

    expect(summary).toContain('1 queen, 2 hive(s), 2 worker(s)');
    expect(summary).toMatch(new RegExp(`Dashboard\\s+${base}/\\n`));
    expect(summary).toContain(`curl -s ${base}/health`);
    expect(summary).toContain(`curl -s ${base}/v1/hives`);
    expect(summary).toContain(`curl -N ${base}/v1/heartbeats/stream`);

    const queen = new QueenApi(base);
    expect(await queen.health()).toMatchObject({
      status: 'ok',
      hives: { online: 2, suspect: 0, offline: 0 },
      workers: { online: 2, available: 2, offline: 0 },
    });
    const hives = await queen.hives();
    expect(hives.map((hive) => hive.hive_id)).toEqual(['hive-1', 'hive-2']);
    expect(hives.map((hive) => hive.capabilities?.models.map((model) => model.model_id))).toEqual([
      ['demo/apiary-demo'],
      ['demo/apiary-demo'],
    ]);

    // The printed worker curl, run as printed: its URL, its body.
    const curl = /curl -s (http:\/\/\S+\/v1\/chat\/completions) .*\n\s+-d '([^']+)'/.exec(summary);
    expect(curl).not.toBeNull();
    const answer = await fetch(curl?.[1] ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: curl?.[2] ?? '',
    });
    expect(answer.status).toBe(200);
    expect(ChatCompletion.parse(await answer.json()).choices[0]?.message.content).not.toBe('');
    const workers = await queen.workers();
    const workerIds = workers.map((worker) => worker.worker_id);
    const workerPorts = workers.map((worker) => worker.port);
    expect(workerPorts).toContain(Number(new URL(curl?.[1] ?? '').port));

    // Every process of the cluster: the roles and the watchdog are the launcher's children, the workers the hives'.
    const pids = descendants(cluster.pid);
    const watchdogs = pids.filter((pid) => commandLine(pid).includes('cluster/watchdog.js'));
    expect(watchdogs).toHaveLength(1);
    for (const pid of pids) track(pid);
    const workerPids: number[] = [];
    for (const hive of hives) {
      const response = await fetch(`${hive.hive_url}${HIVE_PATHS.workers}`);
      workerPids.push(...HiveWorkerList.parse(await response.json()).workers.map((worker) => worker.pid));
    }
    expect(workerPids).toHaveLength(2);
    expect(pids).toEqual(expect.arrayContaining(workerPids));
    expect(pids).toHaveLength(6);

    const stream = await StreamRecorder.open(base);
    cluster.child.kill('SIGINT');
    expect(await cluster.exited).toBe(0);
    expect(cluster.stdout()).toContain('Stopped.');
    // Clean: every worker and hive said goodbye with a final heartbeat before the queen went.
    const goodbyes = stream.events.flatMap(({ event }) =>
      event.type === 'liveness' && event.to === 'offline' ? [`${event.kind} ${event.id} ${event.reason}`] : [],
    );
    expect(goodbyes.sort()).toEqual([
      'hive hive-1 graceful stop',
      'hive hive-2 graceful stop',
      ...workerIds.map((id) => `worker ${id} graceful stop`).sort(),
    ]);
    stream.close();
    await eventually(
      () => (pids.every((pid) => !isRunning(pid)) ? true : undefined),
      'every process of the cluster gone',
      1_000,
    );
    expect(await portAvailable(port, '127.0.0.1')).toBe(true);
  });

  it('leaves nothing behind when it is killed with SIGKILL: its watchdog takes the roles down and removes its directory', async () => {
    const port = await freePort('127.0.0.1');
    const cluster = launch(['--port', String(port), '--hives', '1', '--workers', '1', '--heartbeat-interval', '300ms']);
    await summaryOf(cluster);
    const started = descendants(cluster.pid);
    // The queen, the hive and its worker, each still running after the launcher is gone unless taken down.
    const roles = started.filter((pid) => /actors\/(queen|hive|worker)\.js/.test(commandLine(pid)));
    expect(roles).toHaveLength(3);
    const dir = /--models-dir (\S+)\/hive-1\/models/.exec(commandLine(roles[1] ?? 0) + commandLine(roles[0] ?? 0))?.[1];
    expect(dir).toBeDefined();
    for (const pid of started) track(pid);

    cluster.child.kill('SIGKILL');
    await cluster.exited;
    await eventually(() => (roles.some(isRunning) ? undefined : true), 'every role gone', 15_000);
    await eventually(() => (existsSync(dir ?? '') ? undefined : true), 'the cluster directory removed', 15_000);
  }, 60_000);

  it('--inspect starts an inspector relay for the queen on the given port and for each hive on the next ones', async () => {
    const inspectPort = await freePortPair();
    const cluster = launch(['--port', '0', '--hives', '1', '--workers', '0', `--inspect=${inspectPort}`]);
    const summary = await summaryOf(cluster);
    expect(summary).toContain(`Inspector   http://127.0.0.1:${inspectPort}`);

    for (const port of [inspectPort, inspectPort + 1]) {
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>Stately Inspector</title>');
    }

    cluster.child.kill('SIGINT');
    expect(await cluster.exited).toBe(0);
    expect(await portAvailable(inspectPort, '127.0.0.1')).toBe(true);
    expect(await portAvailable(inspectPort + 1, '127.0.0.1')).toBe(true);
  });

  it('refuses an unknown flag with exit code 2, naming it', () => {
    const result = spawnSync(process.execPath, [LAUNCHER, '--bogus'], {
      encoding: 'utf8',
      env: withoutApiaryEnv(process.env),
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--bogus');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});

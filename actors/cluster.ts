import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpawnWorkerResponse } from '../contracts/hive-api.js';
import { HIVE_PATHS, QUEEN_PATHS, WORKER_PATHS, withId } from '../contracts/paths.js';
import { HiveView, WorkerList } from '../contracts/registry.js';
import { createHeldGroups } from '../services/cluster/held-groups.js';
import { type RoleProcess, startRole } from '../services/cluster/role-process.js';
import { startWatchdog } from '../services/cluster/watchdog-client.js';
import { formatDuration } from '../services/duration.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../services/logger.js';
import { clusterOptions, type ParsedOptions, parseCommandLine } from '../services/options/index.js';

/**
 * `npm start`: a whole cluster on this machine — a queen, hives with a demo model each, and workers spawned through
 * the hives — as real processes. Ctrl-C stops the hives first (their workers' and their own final heartbeats reach
 * the queen), then the queen.
 */

type ClusterOptions = ParsedOptions<typeof clusterOptions>;

const DEMO_MODEL_ID = 'demo/apiary-demo';
const STARTUP_TIMEOUT_MS = 20_000;

async function main(): Promise<void> {
  const options = parseCommandLine(clusterOptions, {
    command: 'npm start --',
    summary: 'Runs a local Apiary cluster: one queen, --hives hives, --workers workers per hive (demo backend).',
  });
  const logger = createLogger({ level: options.logLevel }).child({ role: 'cluster' });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'apiary-cluster-'));
  // Takes every role's process group down and removes the directory should this launcher be killed outright.
  const watchdog = startWatchdog();
  watchdog.removeOnDeath(dir);
  const groups = createHeldGroups({ watchdog });
  const roles: RoleProcess[] = [];
  let stopping = false;

  const shutdown = async (code: number): Promise<never> => {
    if (stopping) return new Promise<never>(() => {});
    stopping = true;
    process.stdout.write('\nStopping the cluster…\n');
    const hives = roles.filter((role) => role.role === 'hive');
    await Promise.all(hives.map((hive) => hive.stop(15_000)));
    // What outlived its hive (workers of a hive that crashed, or was killed at the end of its stop) is in its group.
    for (const hive of hives) groups.signal(hive.pid, 'SIGTERM');
    await Promise.all(roles.filter((role) => role.role === 'queen').map((queen) => queen.stop(5_000)));
    groups.stop();
    rmSync(dir, { recursive: true, force: true });
    watchdog.release();
    process.stdout.write('Stopped.\n');
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(0));

  try {
    const cluster = await startCluster(options, dir, roles, (role) => groups.hold(role.pid, role.exited));
    process.stdout.write(summary(options, cluster));
    for (const role of roles) {
      void role.exited.then((exit) => {
        if (stopping) return;
        logger.warn(`${role.role} exited`, { pid: role.pid, code: exit.code, signal: exit.signal });
        if (role.role === 'queen') void shutdown(1);
      });
    }
  } catch (error) {
    logger.error('the cluster did not start', { error });
    await shutdown(1);
  }
}

interface StartedCluster {
  queen: RoleProcess;
  hives: RoleProcess[];
  workers: { hiveId: string; workerId: string; url: string }[];
}

async function startCluster(
  options: ClusterOptions,
  dir: string,
  roles: RoleProcess[],
  started: (role: RoleProcess) => void,
): Promise<StartedCluster> {
  const env = roleEnv(options.token);
  const interval = options.heartbeatInterval;
  // Roles log at info at least, since their `listening` line is how the launcher knows they are up; only lines at
  // the chosen level are shown.
  const shown = LOG_LEVELS.indexOf(options.logLevel);
  const roleLevel = shown >= LOG_LEVELS.indexOf('info') ? options.logLevel : 'info';
  const forward = (line: string): void => {
    if (LOG_LEVELS.indexOf(levelOf(line)) <= shown) process.stderr.write(`${line}\n`);
  };
  const common = ['--host', options.host, '--log-level', roleLevel, ...(options.insecure ? ['--insecure'] : [])];
  const inspectArg = (offset: number): string[] =>
    options.inspect === undefined ? [] : [`--inspect=${options.inspect + offset}`];

  const queen = await startRole(
    'queen',
    [
      ...common,
      ...['--port', String(options.port), '--no-discovery'],
      ...['--heartbeat-interval', formatDuration(interval)],
      ...['--suspect-after', formatDuration(Math.round(interval * 2.5))],
      ...['--offline-after', formatDuration(interval * 5)],
      ...['--state-dir', path.join(dir, 'queen-state')],
      ...inspectArg(0),
    ],
    { env, detached: true, onLine: forward, timeoutMs: STARTUP_TIMEOUT_MS },
  );
  roles.push(queen);
  started(queen);

  const hives: RoleProcess[] = [];
  for (let i = 1; i <= options.hives; i++) {
    const hiveId = `hive-${i}`;
    const modelsDir = path.join(dir, hiveId, 'models');
    const workersDir = path.join(dir, hiveId, 'workers');
    mkdirSync(path.join(modelsDir, 'demo'), { recursive: true });
    mkdirSync(workersDir, { recursive: true });
    writeDemoModel(path.join(modelsDir, `${DEMO_MODEL_ID}.gguf`));
    const hive = await startRole(
      'hive',
      [
        ...common,
        ...['--port', '0', '--hive-id', hiveId, '--queen-url', queen.url],
        ...['--models-dir', modelsDir, '--workers-dir', workersDir, '--state-dir', path.join(dir, hiveId, 'state')],
        ...['--heartbeat-interval', formatDuration(interval)],
        ...inspectArg(i),
      ],
      { env, detached: true, onLine: forward, timeoutMs: STARTUP_TIMEOUT_MS },
    );
    roles.push(hive);
    started(hive);
    hives.push(hive);
  }

  const headers = authHeaders(options.token);
  await Promise.all(
    hives.map((_, index) =>
      until(
        async () => {
          const response = await fetch(`${queen.url}${withId(QUEEN_PATHS.hive, `hive-${index + 1}`)}`, { headers });
          return response.ok && HiveView.parse(await response.json()).liveness === 'online';
        },
        `hive-${index + 1} online at the queen`,
      ),
    ),
  );

  const workers: StartedCluster['workers'] = [];
  for (const [index, hive] of hives.entries()) {
    for (let w = 0; w < options.workers; w++) {
      const response = await fetch(`${hive.url}${HIVE_PATHS.workers}`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ model: DEMO_MODEL_ID }),
      });
      if (response.status !== 201)
        throw new Error(`spawning a worker failed: ${response.status} ${await response.text()}`);
      const spawned = SpawnWorkerResponse.parse(await response.json());
      workers.push({
        hiveId: `hive-${index + 1}`,
        workerId: spawned.worker_id,
        url: `http://${hostForUrl(options.host)}:${spawned.port}`,
      });
    }
  }
  await until(async () => {
    const response = await fetch(`${queen.url}${QUEEN_PATHS.workers}`, { headers });
    if (!response.ok) return false;
    const ready = new Set(
      WorkerList.parse(await response.json())
        .workers.filter((worker) => worker.available)
        .map((worker) => worker.worker_id),
    );
    return workers.every((worker) => ready.has(worker.workerId));
  }, 'every worker ready at the queen');

  return { queen, hives, workers };
}

function summary(options: ClusterOptions, cluster: StartedCluster): string {
  const base = cluster.queen.url;
  const tokenQuery = options.token ? `?token=${encodeURIComponent(options.token)}` : '';
  const auth = options.token ? ` -H 'authorization: Bearer ${options.token}'` : '';
  const lines = [
    '',
    `Apiary is running: 1 queen, ${cluster.hives.length} hive(s), ${cluster.workers.length} worker(s) (demo backend).`,
    '',
    `  Dashboard   ${base}/${tokenQuery}`,
    ...(options.inspect === undefined
      ? []
      : [`  Inspector   http://127.0.0.1:${options.inspect}  (queen; hive i on port +i)`]),
    '',
    'Try:',
    `  curl -s ${base}${QUEEN_PATHS.health}`,
    `  curl -s${auth} ${base}${QUEEN_PATHS.hives}`,
    `  curl -s${auth} ${base}${QUEEN_PATHS.workers}`,
    `  curl -N${auth} ${base}${QUEEN_PATHS.stream}`,
  ];
  const worker = cluster.workers[0];
  if (worker) {
    lines.push(
      `  curl -s${auth} ${worker.url}${WORKER_PATHS.chatCompletions} -H 'content-type: application/json' \\`,
      `       -d '{"messages":[{"role":"user","content":"Hello, hive!"}]}'`,
    );
  }
  lines.push('', 'Ctrl-C stops everything.', '');
  return lines.join('\n');
}

/** Only the token reaches the roles: stray `APIARY_*` settings of this shell would silently change them. */
function roleEnv(token: string | undefined): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('APIARY_')));
  return token ? { ...env, APIARY_TOKEN: token } : env;
}

function levelOf(line: string): LogLevel {
  const match = /"level":"(error|warn|info|debug)"/.exec(line);
  return match?.[1] === 'error' || match?.[1] === 'warn' || match?.[1] === 'debug' ? match[1] : 'info';
}

function authHeaders(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

function hostForUrl(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

/** A placeholder file the hive lists as a model; the demo backend needs no weights. */
function writeDemoModel(file: string): void {
  const note = Buffer.from('Apiary demo model placeholder: not a real model; the demo backend needs no weights.\n');
  writeFileSync(file, Buffer.concat([note, Buffer.alloc(1024 * 1024 - note.length)]));
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // Not up yet.
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

await main();

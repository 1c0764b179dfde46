import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../services/ports.js';
import { eventually } from './role-process.js';

/**
 * Real etcd (Debian's `etcd-server`) for tests: 1 or 3 members on free loopback ports, each in a temporary data
 * directory, with short raft timings. A member can be killed and started again on its data; `stop` ends them all
 * and removes the directories. Every process started is also ended by `stopAllEtcd` (for `afterEach`).
 */

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  /** Whether its process runs. */
  running(): boolean;
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on its data directory (after `kill`); resolves once it serves clients. */
  start(): Promise<void>;
  /** Whether it is the raft leader now, as its metrics say (false when it does not answer). */
  leads(): Promise<boolean>;
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  /** Every member's client URL, for `--etcd`. */
  readonly endpoints: string[];
  /** Resolves once every running member has a leader and answers `/health` healthy. */
  healthy(timeoutMs?: number): Promise<void>;
  /** Kills every member and removes the data. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
/** How long a member may take to serve, on a loaded machine. */
const START_TIMEOUT_MS = 15_000;
const clusters = new Set<EtcdCluster>();

/**
 * etcd tests of two test files never overlap: killed and restarted members free and take back ports that another
 * file's cluster or queens could pick meanwhile. A directory is the lock; a dead holder's lock is taken over.
 */
const LOCK_DIR = path.join(os.tmpdir(), 'apiary-etcd-tests.lock');
let locked = false;
/** How long a file's first `startEtcd` may wait for the lock: the other etcd files of this suite, or of another one. */
const LOCK_WAIT_MS = 600_000;

/** The timeout of a hook or test that may be a file's first `startEtcd`, running `ms` once it holds the lock. */
export function withEtcdLock(ms: number): number {
  return LOCK_WAIT_MS + ms;
}

function tryLock(): true | undefined {
  try {
    mkdirSync(LOCK_DIR);
  } catch {
    const holder = Number(readFileSyncOr(path.join(LOCK_DIR, 'pid')));
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) return undefined;
    rmSync(LOCK_DIR, { recursive: true, force: true });
    return undefined;
  }
  writeFileSync(path.join(LOCK_DIR, 'pid'), String(process.pid));
  return true;
}

function readFileSyncOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Client TLS for every member: `https://` client URLs, and only clients with a certificate the CA signed. */
export interface EtcdTls {
  /** Files: the CA that signs clients, and the member's own certificate and key. */
  ca: string;
  cert: string;
  key: string;
}

export async function startEtcd(size: 1 | 3 = 1, tls?: EtcdTls): Promise<EtcdCluster> {
  if (!locked) {
    await eventually(tryLock, 'the other test file using etcd to finish', LOCK_WAIT_MS, 100);
    locked = true;
  }
  const root = mkdtempSync(path.join(os.tmpdir(), 'apiary-etcd-'));
  const ports: { client: number; peer: number; metrics: number }[] = [];
  for (let i = 0; i < size; i++)
    ports.push({ client: await freePort(HOST), peer: await freePort(HOST), metrics: await freePort(HOST) });
  const names = ports.map((_, i) => `m${i}`);
  const initialCluster = ports.map(({ peer }, i) => `${names[i]}=http://${HOST}:${peer}`).join(',');
  const members = ports.map((member, i) =>
    createMember(names[i] ?? `m${i}`, member, path.join(root, names[i] ?? `m${i}`), initialCluster, tls),
  );
  const cluster: EtcdCluster = {
    members,
    endpoints: members.map((member) => member.clientUrl),
    healthy: (timeoutMs = START_TIMEOUT_MS) =>
      waitHealthy(
        members.filter((member) => member.running()).map((member) => member.healthUrl),
        timeoutMs,
      ),
    stop: async () => {
      clusters.delete(cluster);
      await Promise.all(members.map((member) => member.kill()));
      rmSync(root, { recursive: true, force: true });
    },
  };
  clusters.add(cluster);
  try {
    // Members of a new cluster wait for each other: spawn all, then wait for the cluster's health.
    for (const member of members) member.spawn();
    await cluster.healthy();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/** Ends every cluster a test left running: for `afterEach`. */
export async function stopAllEtcd(): Promise<void> {
  await Promise.all([...clusters].map((cluster) => cluster.stop()));
  if (locked) {
    rmSync(LOCK_DIR, { recursive: true, force: true });
    locked = false;
  }
}

interface Member extends EtcdMember {
  /** Where `/health` answers over plain HTTP, with or without client TLS. */
  readonly healthUrl: string;
  spawn(): void;
}

function createMember(
  name: string,
  ports: { client: number; peer: number; metrics: number },
  dataDir: string,
  cluster: string,
  tls: EtcdTls | undefined,
): Member {
  const clientUrl = `${tls ? 'https' : 'http'}://${HOST}:${ports.client}`;
  const peerUrl = `http://${HOST}:${ports.peer}`;
  const healthUrl = `http://${HOST}:${ports.metrics}`;
  const args = [
    ...['--listen-metrics-urls', healthUrl],
    ...(tls ? ['--client-cert-auth', '--trusted-ca-file', tls.ca, '--cert-file', tls.cert, '--key-file', tls.key] : []),
    ...['--name', name, '--data-dir', dataDir],
    ...['--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl],
    ...['--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl],
    ...['--initial-cluster', cluster, '--initial-cluster-state', 'new', '--initial-cluster-token', 'apiary-test'],
    // Faster raft than the default on loopback, yet slack enough for two loaded cores; leases of 2 s and more.
    ...['--heartbeat-interval', '100', '--election-timeout', '1000'],
    ...['--logger', 'zap', '--log-level', 'error'],
  ];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const member: Member = {
    name,
    clientUrl,
    healthUrl,
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    spawn: () => {
      const started = spawn('etcd', args, { stdio: 'ignore' });
      started.once('error', () => {});
      child = started;
      exited = new Promise((resolve) => {
        if (started.exitCode !== null || started.signalCode !== null) resolve();
        else started.once('exit', () => resolve());
      });
    },
    kill: async () => {
      if (member.running()) child?.kill('SIGKILL');
      await exited;
    },
    start: async () => {
      if (!member.running()) member.spawn();
      await waitHealthy([healthUrl], START_TIMEOUT_MS, false);
    },
    leads: async () => {
      const response = await fetch(`${healthUrl}/metrics`, { signal: AbortSignal.timeout(1_000) }).catch(() => null);
      const text = response?.ok ? await response.text().catch(() => '') : '';
      return /^etcd_server_is_leader 1$/m.test(text);
    },
  };
  return member;
}

/** Polls `/health` of every endpoint until all say healthy (with `quorum`) or simply answer (without it). */
async function waitHealthy(endpoints: readonly string[], timeoutMs: number, quorum = true): Promise<void> {
  await eventually(
    async () => {
      for (const endpoint of endpoints) {
        const response = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1_000) }).catch(() => null);
        if (!response) return undefined;
        const body: unknown = await response.json().catch(() => null);
        const healthy = typeof body === 'object' && body !== null && 'health' in body && body.health === 'true';
        if (quorum && !healthy) return undefined;
      }
      return true;
    },
    `etcd at ${endpoints.join(',')} ${quorum ? 'healthy' : 'answering'}`,
    timeoutMs,
    50,
  );
}

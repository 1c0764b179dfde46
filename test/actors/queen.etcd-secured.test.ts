import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Etcd3, Range } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type QueenHandle, startQueen } from '../../actors/queen.js';
import { QUEEN_PATHS } from '../../contracts/paths.js';
import { HiveList, QueenHealth } from '../../contracts/registry.js';
import { createLogger } from '../../services/logger.js';
import { parseCommandLine, queenOptions } from '../../services/options/index.js';
import { discoveryHeartbeat, HIVE_ID } from '../fixtures/examples.js';
import { type EtcdCluster, startEtcd, stopAllEtcd, withEtcdLock } from '../support/etcd.js';
import { eventually } from '../support/role-process.js';

/**
 * Queens on an etcd secured as the README's "Securing etcd" says: client TLS with `--client-cert-auth`, and etcd's
 * users, the queens' user allowed only the cluster's prefix. The right credentials lead; a wrong password or a
 * certificate from another CA never does.
 */

const TLS = path.resolve(import.meta.dirname, '../fixtures/etcd-tls');
const file = (name: string): string => path.join(TLS, name);
const TOKEN = 'secured-etcd-token';
const PREFIX = '/apiary';
const QUEEN_USER = 'apiary-queen';
const QUEEN_PASSWORD = 'queen-password';

let etcd: EtcdCluster | undefined;
beforeAll(async () => {
  etcd = await startEtcd(1, { ca: file('ca.pem'), cert: file('etcd.pem'), key: file('etcd-key.pem') });
  // The README's commands, through the client: root, the queens' user with readwrite on the prefix, auth on.
  const admin = new Etcd3({
    hosts: etcd.endpoints,
    credentials: {
      rootCertificate: readFileSync(file('ca.pem')),
      certChain: readFileSync(file('queen.pem')),
      privateKey: readFileSync(file('queen-key.pem')),
    },
  });
  try {
    await admin.user('root').create('root-password');
    await admin.user('root').addRole('root');
    await admin.role('apiary').create();
    await admin.role('apiary').grant({ permission: 'Readwrite', range: Range.prefix(`${PREFIX}/`) });
    await admin.user(QUEEN_USER).create(QUEEN_PASSWORD);
    await admin.user(QUEEN_USER).addRole('apiary');
    await admin.auth.authEnable();
  } finally {
    admin.close();
  }
}, withEtcdLock(60_000));
afterAll(() => stopAllEtcd());

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Started {
  queen: QueenHandle;
  lines: string[];
}

async function queenWith(credentials: { cert: string; key: string; password: string }): Promise<Started> {
  if (!etcd) throw new Error('etcd did not start');
  const options = parseCommandLine(queenOptions, {
    command: 'apiary-queen',
    summary: '',
    argv: [
      ...['--port', '0', '--no-discovery', '--state-dir', 'none', '--leader-ttl', '2s'],
      ...['--etcd', etcd.endpoints.join(','), '--etcd-prefix', PREFIX, '--etcd-ca', file('ca.pem')],
      ...['--etcd-cert', file(credentials.cert), '--etcd-key', file(credentials.key)],
    ],
    env: { APIARY_TOKEN: TOKEN, APIARY_ETCD_USER: QUEEN_USER, APIARY_ETCD_PASSWORD: credentials.password },
    exit: (code) => {
      throw new Error(`exit ${code}`);
    },
  });
  const lines: string[] = [];
  const queen = await startQueen(options, {
    logger: createLogger({ write: (line) => lines.push(line) }),
    dashboard: null,
  });
  cleanups.push(() => queen.stop());
  return { queen, lines };
}

async function health(queen: QueenHandle): Promise<QueenHealth> {
  return QueenHealth.parse(await (await fetch(`${queen.url}${QUEEN_PATHS.health}`)).json());
}

describe('queens on a secured etcd', () => {
  it("lead with the CA, a certificate it signed and the prefix's user, and keep what they are told", async () => {
    const { queen } = await queenWith({ cert: 'queen.pem', key: 'queen-key.pem', password: QUEEN_PASSWORD });
    await eventually(
      async () => ((await health(queen)).role === 'leader' ? true : undefined),
      'the queen leading',
      30_000,
    );
    const posted = await eventually(async () => {
      const response = await fetch(`${queen.url}${QUEEN_PATHS.hiveHeartbeat}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(discoveryHeartbeat),
      });
      // 503 while the new leader loads the state from etcd.
      return response.status === 503 ? undefined : response.status;
    }, 'the heartbeat taken');
    expect(posted).toBe(200);
    // Written to etcd under the prefix (the user may touch nothing else), and read back by a second queen.
    const second = await queenWith({ cert: 'queen.pem', key: 'queen-key.pem', password: QUEEN_PASSWORD });
    await eventually(
      async () => ((await health(second.queen)).leader_url === queen.url ? true : undefined),
      'the second queen following the first',
      30_000,
    );
    expect((await health(second.queen)).role).toBe('follower');
    const listed = await fetch(`${second.queen.url}${QUEEN_PATHS.hives}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(HiveList.parse(await listed.json()).hives.map((hive) => hive.hive_id)).toEqual([HIVE_ID]);
  });

  it.each([
    [
      'a wrong password',
      { cert: 'queen.pem', key: 'queen-key.pem', password: 'not-the-password' },
      'authentication failed',
    ],
    [
      'a certificate from a CA etcd does not trust',
      { cert: 'stranger.pem', key: 'stranger-key.pem', password: QUEEN_PASSWORD },
      'UNAVAILABLE',
    ],
  ])('never lead with %s, and say why', async (_, credentials, reason) => {
    const { queen, lines } = await queenWith(credentials);
    const refused = await eventually(
      () => lines.find((line) => line.includes('"msg":"etcd unreachable: campaign ended"')),
      'a warning that etcd refused the campaign',
      30_000,
    );
    expect(refused).toContain(reason);
    expect(await health(queen)).toMatchObject({ role: 'candidate', leader_url: null });
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IDENTITY_FILE, loadHiveIdentity } from '../../../services/hive/identity.js';
import { queenTrust } from '../../../services/hive/queen-trust.js';
import { silentLogger } from '../../../services/logger.js';

const QUEEN = 'http://10.0.0.1:7833';
const ROGUE = 'http://10.6.6.6:7833';
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function stateDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'apiary-trust-'));
  dirs.push(dir);
  return dir;
}

describe('which queen discovery may point a hive at', () => {
  it('any queen while the hive has no identity; then only the queen that issued it, across a restart', () => {
    const dir = stateDir();
    const identity = loadHiveIdentity(dir, 'gpu-a', silentLogger);
    expect(queenTrust(identity, []).refusal(ROGUE)).toBeNull();
    identity.learn('s1', `${QUEEN}/`);
    const restarted = loadHiveIdentity(dir, 'gpu-a', silentLogger);
    expect(restarted.issuer()).toBe(`${QUEEN}/`);
    const trust = queenTrust(restarted, []);
    expect(trust.refusal(QUEEN)).toBeNull();
    expect(trust.refusal(ROGUE)).toContain(`holds an identity from ${QUEEN}/`);
  });

  it('the queens it was given with --queen-url, always', () => {
    const identity = loadHiveIdentity(null, 'gpu-a', silentLogger);
    identity.learn('s1', QUEEN);
    const trust = queenTrust(identity, [QUEEN, 'http://10.0.0.2:7833/']);
    expect(trust.refusal('http://10.0.0.2:7833')).toBeNull();
    expect(trust.refusal(ROGUE)).not.toBeNull();
  });

  it('no queen but those given when its kept identity names none (a file kept before the queen was recorded)', () => {
    const dir = stateDir();
    writeFileSync(path.join(dir, IDENTITY_FILE), JSON.stringify({ hive_id: 'gpu-a', hive_secret: 's-old' }));
    const identity = loadHiveIdentity(dir, 'gpu-a', silentLogger);
    expect(identity.secret()).toBe('s-old');
    expect(queenTrust(identity, []).refusal(QUEEN)).toContain('from another queen');
    expect(queenTrust(identity, [QUEEN]).refusal(QUEEN)).toBeNull();
  });

  it('a queen that took its secret since the hive started: with several queens, the leader after a failover', () => {
    const identity = loadHiveIdentity(null, 'gpu-a', silentLogger);
    identity.learn('s1', QUEEN);
    const successor = 'http://10.0.0.2:7833';
    const trust = queenTrust(identity, [QUEEN]);
    expect(trust.refusal(successor)).not.toBeNull();
    identity.accepted(`${successor}/`);
    expect(trust.refusal(successor)).toBeNull();
    expect(trust.refusal(ROGUE)).not.toBeNull();
  });
});

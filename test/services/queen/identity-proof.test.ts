import { describe, expect, it } from 'vitest';
import { hiveBeat, issuedSecret, startQueenRegistry, workerBeat } from '../../support/queen-registry.js';

describe('hive identity, proven by use', () => {
  it('issues a new secret to a hive that lost its first one before sending it back; refuses once it has', () => {
    const r = startQueenRegistry().registry;
    const first = issuedSecret(r.receiveHive(hiveBeat('h1')));
    // The hive crashed before it kept `first`: it comes back with no secret, and registers again.
    const second = issuedSecret(r.receiveHive(hiveBeat('h1', {}, true)));
    expect(second).not.toBe(first);
    // A worker it started meanwhile has no secret either, and is not locked out.
    expect(r.receiveWorker(workerBeat('w1', 'h1')).ok).toBe(true);
    expect(r.receiveHive(hiveBeat('h1', { hive_secret: first }, true))).toMatchObject({ ok: false });
    // Sent back once: proven. From now on a heartbeat without it is an impostor's.
    expect(r.receiveHive(hiveBeat('h1', { hive_secret: second }, true))).toMatchObject({
      ok: true,
      value: { secret: null },
    });
    expect(r.receiveHive(hiveBeat('h1', {}, true))).toMatchObject({ ok: false, error: { kind: 'identity' } });
    expect(r.receiveWorker(workerBeat('w2', 'h1'))).toMatchObject({ ok: false, error: { kind: 'identity' } });
    expect(r.receiveWorker(workerBeat('w2', 'h1', { hive_secret: second })).ok).toBe(true);
  });

  it('never lets a wrong secret register again, proven or not', () => {
    const r = startQueenRegistry().registry;
    issuedSecret(r.receiveHive(hiveBeat('h1')));
    expect(r.receiveHive(hiveBeat('h1', { hive_secret: 'guessed-secret-guessed-secret' }, true))).toMatchObject({
      ok: false,
      error: { kind: 'identity' },
    });
  });
});

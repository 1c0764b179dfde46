import { describe, expect, it } from 'vitest';
import { EARLIER_SECRETS } from '../../../machines/hive-store.js';
import type { RegistryChange } from '../../../machines/registry-changes.js';
import { hiveBeat, issuedSecret, startQueenRegistry, workerBeat } from '../../support/queen-registry.js';

describe('hive identity, proven by use', () => {
  it('issues a new secret to a hive that lost its first one before sending it back; refuses once it has', () => {
    const r = startQueenRegistry().registry;
    const first = issuedSecret(r.receiveHive(hiveBeat('h1')));
    // The hive crashed before it kept `first`: it comes back with no secret, and registers again.
    const second = issuedSecret(r.receiveHive(hiveBeat('h1', { boot_id: 'b-after-crash' }, true)));
    expect(second).not.toBe(first);
    // A worker it started meanwhile has no secret either, and is not locked out.
    expect(r.receiveWorker(workerBeat('w1', 'h1')).ok).toBe(true);
    // Sent back once: proven. From now on a heartbeat without it is an impostor's, and the other secret is no proof.
    expect(r.receiveHive(hiveBeat('h1', { hive_secret: second, boot_id: 'b-after-crash' }, true))).toMatchObject({
      ok: true,
      value: { secret: null },
    });
    expect(r.receiveHive(hiveBeat('h1', { hive_secret: first }, true))).toMatchObject({
      ok: false,
      error: { kind: 'identity' },
    });
    expect(r.receiveHive(hiveBeat('h1', { boot_id: 'b-other' }, true))).toMatchObject({
      ok: false,
      error: { kind: 'identity' },
    });
    expect(r.receiveWorker(workerBeat('w2', 'h1'))).toMatchObject({ ok: false, error: { kind: 'identity' } });
    expect(r.receiveWorker(workerBeat('w2', 'h1', { hive_secret: second })).ok).toBe(true);
  });

  it('never lets a wrong secret register again, proven or not', () => {
    const r = startQueenRegistry().registry;
    issuedSecret(r.receiveHive(hiveBeat('h1')));
    expect(r.receiveHive(hiveBeat('h1', { hive_secret: 'guessed-secret-guessed-secret' }, true))).toMatchObject({
      ok: false,
      error: { kind: 'identity', message: expect.stringContaining('this heartbeat carries another hive_secret') },
    });
  });

  it("takes the secret a retry got when the hive's delayed first registration arrived after it", () => {
    const r = startQueenRegistry().registry;
    const refusals: RegistryChange[] = [];
    r.onChanges((_kind, changes) => refusals.push(...changes.filter((c) => c.type === 'identity_refused')));
    // The retry registers and the hive keeps its secret; then the first attempt, held up on the way, is delivered.
    const kept = issuedSecret(r.receiveHive(hiveBeat('h1', { boot_id: 'b-1' })));
    const unseen = issuedSecret(r.receiveHive(hiveBeat('h1', { boot_id: 'b-1' })));
    expect(unseen).not.toBe(kept);
    // Its workers carry the secret it kept, and are taken.
    expect(r.receiveWorker(workerBeat('w1', 'h1', { hive_secret: kept })).ok).toBe(true);
    expect(r.receiveHive(hiveBeat('h1', { hive_secret: kept, boot_id: 'b-1' }, true))).toMatchObject({
      ok: true,
      value: { secret: null },
    });
    expect(r.hives.get('h1')).toMatchObject({ secretProven: true, earlierHashes: [] });
    // Proven: the secret it never saw is no proof.
    expect(r.receiveHive(hiveBeat('h1', { hive_secret: unseen, boot_id: 'b-1' }, true))).toMatchObject({
      ok: false,
      error: { kind: 'identity' },
    });
    expect(refusals).toHaveLength(1);
    // Another copy of its first registration, later still: its own start, so no impostor is reported.
    expect(r.receiveHive(hiveBeat('h1', { boot_id: 'b-1' }))).toMatchObject({ ok: false, error: { kind: 'stale' } });
    expect(refusals).toHaveLength(1);
    expect(r.hives.get('h1')?.report?.boot_id).toBe('b-1');
  });

  it(`keeps the ${EARLIER_SECRETS} secrets issued before the latest while none is proven, no more`, () => {
    const r = startQueenRegistry().registry;
    const issued = Array.from({ length: EARLIER_SECRETS + 2 }, () => issuedSecret(r.receiveHive(hiveBeat('h1'))));
    const [oldest, kept] = issued;
    expect(r.receiveHive(hiveBeat('h1', { hive_secret: oldest }, true))).toMatchObject({
      ok: false,
      error: { kind: 'identity' },
    });
    expect(r.receiveHive(hiveBeat('h1', { hive_secret: kept }, true))).toMatchObject({ ok: true });
  });

  it('keeps the secret a hive shows when it registers anew after a reset good until its new one is proven', () => {
    const r = startQueenRegistry().registry;
    const old = issuedSecret(r.receiveHive(hiveBeat('h1')));
    expect(r.receiveHive(hiveBeat('h1', { hive_secret: old }, true)).ok).toBe(true);
    expect(r.forgetHive('h1')).toBe(true);
    // Registered anew with a new secret, whose answer is lost: the hive shows its old one again, and is taken.
    const fresh = issuedSecret(r.receiveHive(hiveBeat('h1', { hive_secret: old })));
    expect(fresh).not.toBe(old);
    expect(r.receiveHive(hiveBeat('h1', { hive_secret: old }, true))).toMatchObject({
      ok: true,
      value: { secret: null },
    });
    expect(r.receiveHive(hiveBeat('h1', { hive_secret: fresh }, true))).toMatchObject({
      ok: false,
      error: { kind: 'identity' },
    });
  });

  it('drops the old secret once the hive proves the new one after a reset', () => {
    const r = startQueenRegistry().registry;
    const old = issuedSecret(r.receiveHive(hiveBeat('h1')));
    r.forgetHive('h1');
    const fresh = issuedSecret(r.receiveHive(hiveBeat('h1', { hive_secret: old })));
    expect(r.receiveHive(hiveBeat('h1', { hive_secret: fresh }, true))).toMatchObject({ ok: true });
    expect(r.receiveHive(hiveBeat('h1', { hive_secret: old }, true))).toMatchObject({
      ok: false,
      error: { kind: 'identity' },
    });
  });
});

import { describe, expect, it } from 'vitest';
import { createNumbering } from '../../services/heartbeat-numbering.js';

describe('heartbeat numbering', () => {
  it('numbers from 0 under one boot_id, and under a new one from 0 after a 409, whatever else is answered', () => {
    const boots = ['boot-1', 'boot-2'];
    const numbering = createNumbering(() => boots.shift() ?? 'boot-more');
    expect(numbering.next()).toEqual({ boot_id: 'boot-1', seq: 0 });
    numbering.sent({ ok: true, value: { status: 'ok', queen_epoch: 'q-1', resync: false } });
    numbering.sent({ ok: false, error: { kind: 'http', status: 503, message: 'no leader' } });
    numbering.sent({ ok: false, error: { kind: 'http', status: 403, message: 'identity' } });
    numbering.sent({ ok: false, error: { kind: 'refused', message: 'ECONNREFUSED' } });
    expect(numbering.next()).toEqual({ boot_id: 'boot-1', seq: 1 });
    expect(numbering.bootId()).toBe('boot-1');
    // The queen holds a later seq under this boot_id than was ever sent (forged), or the process for gone.
    numbering.sent({ ok: false, error: { kind: 'http', status: 409, message: 'stale' } });
    expect(numbering.bootId()).toBe('boot-2');
    expect(numbering.next()).toEqual({ boot_id: 'boot-2', seq: 0 });
    expect(numbering.next()).toEqual({ boot_id: 'boot-2', seq: 1 });
  });
});

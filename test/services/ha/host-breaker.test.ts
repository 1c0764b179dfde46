import { BrokenCircuitError } from 'cockatiel';
import { GRPCUnavailableError } from 'etcd3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hostBreaker } from '../../../services/ha/host-breaker.js';

const unreachable = async (): Promise<never> => {
  throw new GRPCUnavailableError('no member answers');
};
const answered = async (): Promise<string> => 'renewed';

/** Three calls in a row to a member that does not answer: enough to skip it. */
async function trip(breaker: ReturnType<typeof hostBreaker>): Promise<void> {
  for (let failure = 0; failure < 3; failure++) await expect(breaker.execute(unreachable)).rejects.toThrow();
}

describe('hostBreaker', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('skips a member after three failed calls and tries it again a quarter of the lease TTL later', async () => {
    const breaker = hostBreaker(2_000);
    await trip(breaker);
    await expect(breaker.execute(answered)).rejects.toBeInstanceOf(BrokenCircuitError);
    vi.advanceTimersByTime(499);
    await expect(breaker.execute(answered)).rejects.toBeInstanceOf(BrokenCircuitError);
    vi.advanceTimersByTime(1);
    // Well inside the TTL that etcd gives every lease when quorum comes back.
    await expect(breaker.execute(answered)).resolves.toBe('renewed');
  });

  it("waits no longer than etcd3's 5 s however long the lease", async () => {
    const breaker = hostBreaker(60_000);
    await trip(breaker);
    vi.advanceTimersByTime(4_999);
    await expect(breaker.execute(answered)).rejects.toBeInstanceOf(BrokenCircuitError);
    vi.advanceTimersByTime(1);
    await expect(breaker.execute(answered)).resolves.toBe('renewed');
  });

  it('counts no refusal that etcd meant (an expired lease is not a member down)', async () => {
    const breaker = hostBreaker(2_000);
    const refused = async (): Promise<never> => {
      throw new Error('requested lease not found');
    };
    for (let call = 0; call < 5; call++) await expect(breaker.execute(refused)).rejects.toThrow('lease not found');
    await expect(breaker.execute(answered)).resolves.toBe('renewed');
  });
});

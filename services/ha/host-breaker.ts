import { type CircuitBreakerPolicy, ConsecutiveBreaker, circuitBreaker, handleWhen } from 'cockatiel';
import { isRecoverableError } from 'etcd3';

/** etcd3's own: a member that failed this many calls in a row is skipped until its breaker half-opens. */
const FAILURES_TO_OPEN = 3;
/** etcd3's default wait before a skipped member is tried again. */
const ETCD3_HALF_OPEN_MS = 5_000;

/**
 * The per-member circuit breaker of the election's etcd client: etcd3's, but tried again after a quarter of the lease's
 * TTL at most. Through a quorum loss every member's breaker opens; with etcd3's 5 s, the campaign could reach no member
 * for up to 5 s after quorum came back, while etcd gave its lease one TTL (5 s by default, 2 s in tests): the leader's
 * key expired and the writes it had buffered through the outage were refused.
 */
export function hostBreaker(ttlMs: number): CircuitBreakerPolicy {
  return circuitBreaker(handleWhen(isRecoverableError), {
    halfOpenAfter: Math.min(ETCD3_HALF_OPEN_MS, Math.floor(ttlMs / 4)),
    breaker: new ConsecutiveBreaker(FAILURES_TO_OPEN),
  });
}

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashSecret, issueSecret, secretMatches } from '../../../services/queen/identity.js';

describe('hive identities', () => {
  it('keeps the SHA-256 of a secret, in hex, and matches only that secret', () => {
    const secret = issueSecret();
    const hashed = hashSecret(secret);
    expect(hashed).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(secretMatches(hashed, secret)).toBe(true);
    expect(secretMatches(hashed, issueSecret())).toBe(false);
    expect(secretMatches(hashed, `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`)).toBe(false);
    expect(secretMatches(hashed, undefined)).toBe(false);
  });

  it('never matches a stored hash of another length, and does not throw on one', () => {
    const secret = issueSecret();
    expect(secretMatches(hashSecret(secret).slice(0, 40), secret)).toBe(false);
    expect(secretMatches('', secret)).toBe(false);
  });
});

import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Hive identities (docs/protocol.md: Identity): the queen issues a random secret once and keeps only its hash. */

/** 256 random bits, base64url. */
export function issueSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The secret's SHA-256, hex: the secret is random, so a fast hash is as good as a slow one. */
export function hashSecret(secret: string): string {
  return hash('sha256', secret);
}

/** Compares the hex hashes in constant time (as their bytes: no hex decoding on every heartbeat); a missing secret never matches. */
export function secretMatches(hashed: string, secret: string | undefined): boolean {
  if (secret === undefined) return false;
  const given = Buffer.from(hashSecret(secret), 'latin1');
  const expected = Buffer.from(hashed, 'latin1');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

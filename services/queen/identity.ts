import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Hive identities (docs/protocol.md: Identity): the queen issues a random secret once and keeps only its hash. */

/** 256 random bits, base64url. */
export function issueSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The secret's SHA-256, hex: the secret is random, so a fast hash is as good as a slow one. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Compares in constant time; a missing secret never matches. */
export function secretMatches(hash: string, secret: string | undefined): boolean {
  if (secret === undefined) return false;
  const expected = Buffer.from(hash, 'hex');
  const given = createHash('sha256').update(secret).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

import { z } from 'zod';

export const ID_MAX_LENGTH = 128;

/** Whether a text has no lone surrogate: one makes every JSON answer repeating it unreadable to strict parsers (jq). */
function isWellFormed(text: string): boolean {
  return !/\p{Cs}/u.test(text);
}

/** Free text of the contract (names, versions, models, errors): a string of well-formed Unicode, whatever it says. */
export const Text = z.string().refine(isWellFormed, 'must be well-formed Unicode (no lone surrogate)');

/** `text` cut to at most `max` UTF-16 units, never between the halves of a pair (which would leave one alone). */
export function cutText(text: string, max: number): string {
  const cut = text.slice(0, max);
  return cut.length < text.length && /\p{Cs}$/u.test(cut) ? cut.slice(0, -1) : cut;
}

/** Identifiers of hives and workers: 1–128 characters of well-formed Unicode (no lone surrogate), no control character. */
export const Id = Text.min(1)
  .max(ID_MAX_LENGTH)
  .refine((id) => !/\p{Cc}/u.test(id), 'must not contain control characters');

/** A hive's identity secret as it travels: the queen issues 256 random bits, base64url. */
export const HiveSecret = z.string().min(1).max(256);

/** RFC 3339 timestamp; UTC `Z` or an explicit offset. */
export const Timestamp = z.iso.datetime({ offset: true });

export const NonNegative = z.number().nonnegative();
export const NonNegativeInt = z.number().int().nonnegative();
export const Percent = z.number().min(0).max(100);
export const Port = z.number().int().min(1).max(65535);
/** A port a client may ask a role to bind: never a privileged one (below 1024), where system services listen. */
export const UnprivilegedPort = z.number().int().min(1024).max(65535);

/**
 * A whole number in a URL query, as `schema` bounds it: only decimal digits are read as a number (no sign, space,
 * exponent or `0x`); other text is refused as not a number. A number passes as is, so a parsed query parses again.
 */
export function queryNumber<S extends z.ZodType<number>>(schema: S) {
  return z.preprocess((value) => (typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value), schema);
}

/** Whether a URL carries a user or password: never accepted, so no credential is ever followed, echoed or logged. */
export function hasCredentials(url: string): boolean {
  // Only an `@` sets a user or password: the URL of nearly every heartbeat is never parsed for it.
  if (!url.includes('@') || !URL.canParse(url)) return false;
  const { username, password } = new URL(url);
  return username !== '' || password !== '';
}

/** An http(s) URL without credentials: the only kind of URL Apiary ever follows. */
export const HttpUrl = z
  .url({ protocol: /^https?$/ })
  .refine((url) => !hasCredentials(url), 'must not carry a user or password');

/** Limits from the protocol, shared by the schemas and the hive that produces the payloads. */
export const LIMITS = {
  devices: 64,
  models: 10_000,
  workerTypes: 1_000,
  /** A device's name and its compute capability, in characters: the hive cuts longer ones its tools report. */
  deviceNameLength: 256,
  computeCapabilityLength: 32,
  /** A worker's `last_error`, in characters: the worker cuts a longer one. */
  lastErrorLength: 1024,
  /** Issues a 400 answer lists; the rest are counted in one last issue, so an answer never outgrows its request. */
  listedIssues: 100,
  /** Request bodies above this are refused with 413. */
  bodyBytes: 256 * 1024,
  /**
   * The UTF-8 bytes of the capabilities' JSON one hive may hold, however they came (a full set, or deltas on top of
   * one). A quarter of the body is left for the rest of a heartbeat (64 devices' readings take under 40 KiB), so a set
   * deltas grew to this bound can always be sent again whole. More is refused with 413 and changes nothing.
   */
  capabilityBytes: 192 * 1024,
  /** Default of `--max-capability-bytes`: the capabilities of all hives the queen holds (503 past it). */
  maxCapabilityBytes: 256 * 1024 * 1024,
  /** A socket whose request headers are not in within this long is answered 408 and closed. */
  headersTimeoutMs: 10_000,
  /** The same for a whole request, body included. */
  requestTimeoutMs: 30_000,
  /** Default of `--idle-timeout`: an idle keep-alive socket is closed after this long. */
  idleTimeoutMs: 120_000,
  /** Default of `--max-connections`: sockets open at once (lowered to fit the descriptor limit). */
  maxConnections: 10_000,
  /**
   * Minute rows (and forgotten hives) waiting for the metrics archive's store: ten minutes of 10 000 hives. While the
   * store fails, the oldest past this are dropped.
   */
  archiveQueueRows: 100_000,
  /** Alerts waiting for one webhook receiver: past this the oldest are dropped. */
  webhookQueue: 100,
  /** Stream connections open at once, each holding at most its own queue: one more is refused with 503. */
  streamClients: 100,
} as const;

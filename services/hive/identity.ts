import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { HiveSecret, HttpUrl, Id } from '../../contracts/common.js';
import type { Logger } from '../logger.js';
import { parseJson } from '../parse-json.js';

/**
 * The hive's identity (docs/protocol.md: Identity): the secret its queen issued at its first registration, kept in
 * `<state-dir>/identity.json` (mode 0600) so a restarted hive is still itself, and sent in every heartbeat.
 */

export const IDENTITY_FILE = 'identity.json';

/** `queen_url`: the queen that issued the secret (absent in files kept before it was recorded). */
const StoredIdentity = z.object({ hive_id: Id, hive_secret: HiveSecret, queen_url: HttpUrl.optional() });
type StoredIdentity = z.infer<typeof StoredIdentity>;

export interface HiveIdentity {
  /** Where it is kept (null with `--state-dir none`): its workers read a new secret there when refused. */
  readonly file: string | null;
  /** The secret to send; undefined before the first registration. */
  secret(): string | undefined;
  /** The queen that issued it, when known. */
  issuer(): string | undefined;
  /** A queen issued a secret: kept with that queen's URL, written, and told to the listeners. */
  learn(secret: string, queenUrl: string): void;
  /** A queen took a heartbeat carrying the secret as proof: it holds this hive's identity (a leader of its queens). */
  accepted(queenUrl: string): void;
  /** The queens that took the secret since this hive started. */
  holders(): ReadonlySet<string>;
  /** Called with every new secret; returns the unsubscribe. */
  onChange(listener: (secret: string) => void): () => void;
}

/** The identity of `hiveId` kept in `stateDir` (none kept when null); a file for another hive id is ignored. */
export function loadHiveIdentity(stateDir: string | null, hiveId: string, logger: Logger): HiveIdentity {
  const file = stateDir === null ? null : path.join(stateDir, IDENTITY_FILE);
  const kept = file === null ? undefined : readIdentity(file, hiveId, logger);
  let current = kept?.hive_secret;
  let issuer = kept?.queen_url;
  const listeners = new Set<(secret: string) => void>();
  const holders = new Set<string>();
  return {
    file,
    secret: () => current,
    issuer: () => issuer,
    accepted: (queenUrl) => holders.add(queenUrl),
    holders: () => holders,
    learn(secret, queenUrl) {
      if (secret === current) return;
      current = secret;
      issuer = queenUrl;
      holders.clear();
      if (file !== null) writeSecret(file, { hive_id: hiveId, hive_secret: secret, queen_url: queenUrl }, logger);
      logger.info('identity issued by the queen', { kept_in: file });
      for (const listener of listeners) listener(secret);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** The secret of `hiveId` kept in `file`, as a worker reads its hive's: undefined when none is (or it is unreadable). */
export function readKeptSecret(file: string, hiveId: string, logger: Logger): string | undefined {
  return readIdentity(file, hiveId, logger)?.hive_secret;
}

function readIdentity(file: string, hiveId: string, logger: Logger): StoredIdentity | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined;
    logger.warn('identity file unreadable; registering anew', { file, error });
    return undefined;
  }
  const parsed = parseJson(StoredIdentity, text);
  if (!parsed.ok) {
    logger.warn('identity file malformed; registering anew', { file });
    return undefined;
  }
  return parsed.value.hive_id === hiveId ? parsed.value : undefined;
}

/** Written aside, then renamed: a crash never leaves half a secret. */
function writeSecret(file: string, identity: StoredIdentity, logger: Logger): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const aside = `${file}.${process.pid}.tmp`;
    writeFileSync(aside, `${JSON.stringify(identity)}\n`, { mode: 0o600 });
    renameSync(aside, file);
  } catch (error) {
    logger.error('identity could not be kept: a restart of this hive will be refused by its queen', { file, error });
  }
}

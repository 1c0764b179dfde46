import { z } from 'zod';
import { HiveSecret } from '../../contracts/common.js';
import { readKeptSecret } from '../hive/identity.js';
import type { Logger } from '../logger.js';

/**
 * How a spawned worker learns its hive's identity: from its environment at start, then from its hive over the IPC
 * channel when the queen issues a new one, and from the file where the hive keeps it when the queen refuses the one it
 * has (a worker adopted by a restarted hive has no channel to its hive). Never on the command line, where `ps` would
 * show it.
 */

export const HIVE_SECRET_ENV = 'APIARY_HIVE_SECRET';
/** Where the hive keeps its identity (`<state-dir>/identity.json`); absent with `--state-dir none`. */
export const HIVE_IDENTITY_FILE_ENV = 'APIARY_HIVE_IDENTITY_FILE';

export const HiveSecretMessage = z.object({ hive_secret: HiveSecret });
export type HiveSecretMessage = z.infer<typeof HiveSecretMessage>;

export interface HiveSecretSource {
  /** The secret to send now. */
  current(): string | undefined;
  /** The queen refused it: take the one the hive keeps, if the queen has issued it another since. */
  reload(): void;
}

/** The worker's hive secret: the environment's, replaced by each message of its hive and by what `reload` reads. */
export function watchHiveSecret(
  hiveId: string,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): HiveSecretSource {
  let secret = env[HIVE_SECRET_ENV] || undefined;
  const file = env[HIVE_IDENTITY_FILE_ENV] || undefined;
  if (process.channel) {
    process.on('message', (message: unknown) => {
      const parsed = HiveSecretMessage.safeParse(message);
      if (parsed.success) secret = parsed.data.hive_secret;
    });
  }
  return {
    current: () => secret,
    reload: () => {
      if (file === undefined) return;
      const kept = readKeptSecret(file, hiveId, logger);
      if (kept === undefined || kept === secret) return;
      secret = kept;
      logger.info("hive secret read again from its hive's state", { file });
    },
  };
}

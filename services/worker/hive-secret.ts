import { z } from 'zod';
import { HiveSecret } from '../../contracts/common.js';

/**
 * How a spawned worker learns its hive's identity: from its environment at start, then from its hive over the IPC
 * channel when the queen issues a new one. Never on the command line, where `ps` would show it.
 */

export const HIVE_SECRET_ENV = 'APIARY_HIVE_SECRET';

export const HiveSecretMessage = z.object({ hive_secret: HiveSecret });
export type HiveSecretMessage = z.infer<typeof HiveSecretMessage>;

/** The worker's current hive secret: the environment's, replaced by each message of its hive. */
export function watchHiveSecret(env: NodeJS.ProcessEnv = process.env): () => string | undefined {
  let secret = env[HIVE_SECRET_ENV] || undefined;
  if (process.channel) {
    process.on('message', (message: unknown) => {
      const parsed = HiveSecretMessage.safeParse(message);
      if (parsed.success) secret = parsed.data.hive_secret;
    });
  }
  return () => secret;
}

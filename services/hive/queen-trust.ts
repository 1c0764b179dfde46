import { urlSpelling } from '../url-spelling.js';
import type { HiveIdentity } from './identity.js';

/**
 * Which queen a hive may be pointed at by discovery (`GET /capabilities?queen_url=`). A hive with no identity yet
 * follows any queen that asks. Once it holds a secret, it sends it only to queens it was given (`--queen-url`), to the
 * one that issued it, or to one that has taken it (with several queens, the leader it was redirected to): a token
 * holder must not steer it to a queen that would take its secret or issue another.
 */
export interface QueenTrust {
  /** Null when the hive may follow `queenUrl`; else why not, in one sentence for the caller. */
  refusal(queenUrl: string): string | null;
}

export function queenTrust(
  identity: Pick<HiveIdentity, 'secret' | 'issuer' | 'holders'>,
  configured: readonly string[],
): QueenTrust {
  const given = new Set(configured.map(urlSpelling));
  return {
    refusal(queenUrl) {
      const url = urlSpelling(queenUrl);
      if (identity.secret() === undefined || given.has(url)) return null;
      if ([...identity.holders()].some((holder) => urlSpelling(holder) === url)) return null;
      const issuer = identity.issuer();
      if (issuer !== undefined && urlSpelling(issuer) === url) return null;
      return (
        `This hive holds an identity from ${issuer ?? 'another queen'} and follows no other queen through ` +
        'discovery: give it --queen-url, or reset its identity (its identity.json and DELETE /v1/hives/:id on the queen).'
      );
    },
  };
}

import ky from 'ky';
import { LIMITS } from '../../contracts/common.js';
import { CapabilitiesResponse } from '../../contracts/hive-api.js';
import { HIVE_PATHS } from '../../contracts/paths.js';
import { boundedText } from '../bounded-text.js';
import { describe } from '../describe-error.js';
import { isLoopbackHost } from '../options/index.js';
import { issueLine, parseJson } from '../parse-json.js';
import type { HiveTarget } from './targets.js';

/**
 * Pull discovery, queen side (docs/protocol.md: Pull discovery): `GET <hive>/capabilities?queen_url=<advertise-url>` to every target at
 * once, each bounded by the timeout, each answer checked against the contract. A loopback queen URL is never sent
 * to a hive that is not on loopback: it could not reach the queen there, and would be told a wrong address.
 */
export interface DiscoveryOptions {
  targets: readonly HiveTarget[];
  hivePort: number;
  /** The queen's address as sent to hives. */
  queenUrl: string;
  token?: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

export type DiscoveryOutcome =
  | { target: HiveTarget; hiveUrl: string; ok: true; response: CapabilitiesResponse }
  | { target: HiveTarget; hiveUrl: string; ok: false; skipped: boolean; error: string };

export function discoverHives(options: DiscoveryOptions): Promise<DiscoveryOutcome[]> {
  const queenOnLoopback = isLoopbackHost(new URL(options.queenUrl).hostname);
  return Promise.all(
    options.targets.map(async (target): Promise<DiscoveryOutcome> => {
      const hiveUrl = hiveUrlOf(target, options.hivePort);
      if (queenOnLoopback && !isLoopbackHost(target.hostName)) {
        return {
          target,
          hiveUrl,
          ok: false,
          skipped: true,
          error:
            `the queen URL ${options.queenUrl} is loopback and ${target.hostName} is not: ` +
            'give --advertise-url (or --host 0.0.0.0) so the hive can reach the queen',
        };
      }
      const result = await probe(hiveUrl, options);
      return result.ok
        ? { target, hiveUrl, ok: true, response: result.response }
        : { target, hiveUrl, ok: false, skipped: false, error: result.error };
    }),
  );
}

type ProbeResult = { ok: true; response: CapabilitiesResponse } | { ok: false; error: string };

async function probe(hiveUrl: string, options: DiscoveryOptions): Promise<ProbeResult> {
  const url = `${hiveUrl}${HIVE_PATHS.capabilities}?queen_url=${encodeURIComponent(options.queenUrl)}`;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    // The deadline is our signal, not ky's timeout (which stops at the headers), so it also bounds the body.
    const response = await ky.get(url, {
      retry: 0,
      timeout: false,
      throwHttpErrors: false,
      headers: {
        accept: 'application/json',
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      },
      signal,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    if (!response.ok) {
      await response.body?.cancel();
      return { ok: false, error: `HTTP ${response.status} from ${url}` };
    }
    // Read within the same deadline (a hive that sends headers and then stalls still times out), and no more than
    // a heartbeat may carry.
    const text = await boundedText(response, LIMITS.bodyBytes);
    if (text === null) return { ok: false, error: `the answer of ${url} is larger than ${LIMITS.bodyBytes} bytes` };
    const parsed = parseJson(CapabilitiesResponse, text);
    if (parsed.ok) return { ok: true, response: parsed.value };
    if (parsed.notJson) return { ok: false, error: `the answer of ${url} is not JSON` };
    return {
      ok: false,
      error: `the answer of ${url} is not valid capabilities: ${issueLine(parsed.issues.slice(0, 3))}`,
    };
  } catch (error) {
    if (timeout.aborted) return { ok: false, error: `no answer from ${url} within ${options.timeoutMs} ms` };
    if (options.signal?.aborted) return { ok: false, error: 'discovery stopped' };
    return { ok: false, error: `${url}: ${describe(error)}` };
  }
}

/** Where discovery looks for a target's hive. */
export function hiveUrlOf(target: HiveTarget, hivePort: number): string {
  return `http://${urlHost(target.hostName)}:${hivePort}`;
}

function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

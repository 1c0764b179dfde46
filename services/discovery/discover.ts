import ky from 'ky';
import { LIMITS } from '../../contracts/common.js';
import { CapabilitiesResponse } from '../../contracts/hive-api.js';
import { HIVE_PATHS } from '../../contracts/paths.js';
import { fail, ok, type Result } from '../../machines/result.js';
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

/** Why a target gave no capabilities: never asked (`skipped`), or asked without a valid answer (`failed`). */
export interface DiscoveryFailure {
  kind: 'skipped' | 'failed';
  message: string;
}

export type DiscoveryOutcome = { target: HiveTarget; hiveUrl: string } & Result<CapabilitiesResponse, DiscoveryFailure>;

export function discoverHives(options: DiscoveryOptions): Promise<DiscoveryOutcome[]> {
  const queenOnLoopback = isLoopbackHost(new URL(options.queenUrl).hostname);
  return Promise.all(
    options.targets.map(async (target): Promise<DiscoveryOutcome> => {
      const hiveUrl = hiveUrlOf(target, options.hivePort);
      if (queenOnLoopback && !isLoopbackHost(target.hostName)) {
        const message =
          `the queen URL ${options.queenUrl} is loopback and ${target.hostName} is not: ` +
          'give --advertise-url (or --host 0.0.0.0) so the hive can reach the queen';
        return { target, hiveUrl, ...fail({ kind: 'skipped', message }) };
      }
      const result = await probe(hiveUrl, options);
      return { target, hiveUrl, ...(result.ok ? result : fail({ kind: 'failed', message: result.error })) };
    }),
  );
}

type ProbeResult = Result<CapabilitiesResponse, string>;

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
      return fail(`HTTP ${response.status} from ${url}`);
    }
    // Read within the same deadline (a hive that sends headers and then stalls still times out), and no more than
    // a heartbeat may carry.
    const text = await boundedText(response, LIMITS.bodyBytes);
    if (text === null) return fail(`the answer of ${url} is larger than ${LIMITS.bodyBytes} bytes`);
    const parsed = parseJson(CapabilitiesResponse, text);
    if (parsed.ok) return ok(parsed.value);
    if (parsed.error.notJson) return fail(`the answer of ${url} is not JSON`);
    return fail(`the answer of ${url} is not valid capabilities: ${issueLine(parsed.error.issues.slice(0, 3))}`);
  } catch (error) {
    if (timeout.aborted) return fail(`no answer from ${url} within ${options.timeoutMs} ms`);
    if (options.signal?.aborted) return fail('discovery stopped');
    return fail(`${url}: ${describe(error)}`);
  }
}

/** Where discovery looks for a target's hive. */
export function hiveUrlOf(target: HiveTarget, hivePort: number): string {
  return `http://${urlHost(target.hostName)}:${hivePort}`;
}

function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

import type { ExpectedHive } from '../../machines/hive-store.js';
import { defined } from '../defined.js';
import type { Logger } from '../logger.js';
import type { QueenMetrics } from '../metrics.js';
import type { QueenRegistry } from '../queen/registry.js';
import { discoverHives, hiveUrlOf } from './discover.js';
import { type HiveTarget, readHiveTargets } from './targets.js';

/**
 * One discovery run: read the hives config, ask every hive at once (on a repeat, every hive not online), register the
 * answers, and list the hosts that did not answer as expected hives. One log line per failed host and one summary on
 * the first run, debug lines after; counted in the metrics.
 */
export interface DiscoveryRunOptions {
  hivesConfig: string;
  hivePort: number;
  queenUrl: string;
  token?: string | undefined;
  timeoutMs: number;
  registry: QueenRegistry;
  metrics: QueenMetrics;
  logger: Logger;
  signal?: AbortSignal;
  fetch?: typeof fetch;
  /** A later run: only the hives not online now are probed, and what stays down was logged by the first. */
  repeat?: boolean;
}

export interface DiscoverySummary {
  targets: number;
  registered: number;
  /** Answered for a hive id the queen holds an identity for: its answer is not taken, its heartbeats are. */
  identified: number;
  failed: number;
  skipped: number;
}

export async function runDiscovery(options: DiscoveryRunOptions): Promise<DiscoverySummary> {
  const { logger, metrics, registry } = options;
  const all = await readHiveTargets(options.hivesConfig);
  const targets = options.repeat
    ? all.filter((target) => !registry.hives.onlineAt(hiveUrlOf(target, options.hivePort)))
    : all;
  const log = options.repeat ? logger.debug.bind(logger) : logger.warn.bind(logger);
  const summary: DiscoverySummary = { targets: targets.length, registered: 0, identified: 0, failed: 0, skipped: 0 };
  if (targets.length === 0) {
    logger.debug('no hives to discover', { hives_config: options.hivesConfig });
    return summary;
  }
  const outcomes = await discoverHives({
    targets,
    hivePort: options.hivePort,
    queenUrl: options.queenUrl,
    token: options.token,
    timeoutMs: options.timeoutMs,
    ...defined({ signal: options.signal, fetch: options.fetch }),
  });
  if (options.signal?.aborted) return summary;
  const expected: ExpectedHive[] = [];
  const notDiscovered = (target: HiveTarget, hiveUrl: string, kind: 'skipped' | 'failed', error: string): void => {
    expected.push({ hiveId: target.alias, hiveUrl });
    metrics.discovery(kind);
    summary[kind]++;
    log(kind === 'skipped' ? 'hive not discovered: skipped' : 'hive not discovered', {
      host: target.alias,
      host_name: target.hostName,
      error,
    });
  };
  for (const outcome of outcomes) {
    if (!outcome.ok) {
      notDiscovered(outcome.target, outcome.hiveUrl, outcome.error.kind, outcome.error.message);
      continue;
    }
    const verdict = registry.discovered({ response: outcome.value, hiveUrl: outcome.hiveUrl });
    if (!verdict.ok) {
      // Its answer passes a bound a heartbeat would pass too: taken no more than that heartbeat would be.
      notDiscovered(outcome.target, outcome.hiveUrl, 'failed', verdict.error.message);
    } else if (verdict.value === 'taken') {
      metrics.discovery('registered');
      summary.registered++;
    } else {
      // Its heartbeats, which carry its secret, will tell the queen about it; the hive is expected all the same.
      expected.push({ hiveId: outcome.value.hive_id, hiveUrl: outcome.hiveUrl });
      metrics.discovery('identified');
      summary.identified++;
      logger.debug('hive discovered with an identity: left to its heartbeats', { hive_id: outcome.value.hive_id });
    }
  }
  if (expected.length > 0) registry.expect(expected);
  if (options.repeat && summary.registered === 0) logger.debug('discovery finished', { ...summary });
  else logger.info('discovery finished', { hives_config: options.hivesConfig, ...summary });
  return summary;
}

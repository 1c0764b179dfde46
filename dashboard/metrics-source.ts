import type { HiveMetrics } from '../contracts/metrics-history.js';
import { isRecord } from './events.js';
import { tokenHeaders } from './page-token.js';
import { TREND_STEP_S } from './trend.js';

/**
 * Fetches hive histories from the queen's metrics path (a template with `:id`), with the page's token as a bearer
 * header. The queen builds the answer from its zod schema, so only its shape is checked here; null when refused.
 */
export function metricsLoader(pathTemplate: string, pageUrl: string): (hiveId: string) => Promise<HiveMetrics | null> {
  const headers = tokenHeaders(pageUrl);
  return async (hiveId) => {
    const url = new URL(pathTemplate.replace(':id', encodeURIComponent(hiveId)), pageUrl);
    url.searchParams.set('step', `${TREND_STEP_S}s`);
    const response = await fetch(url, { headers });
    if (!response.ok) return null;
    const body: unknown = await response.json();
    return isHiveMetrics(body) ? body : null;
  };
}

function isHiveMetrics(value: unknown): value is HiveMetrics {
  if (!isRecord(value) || !isRecord(value.series)) return false;
  return Object.values(value.series).every((points) => Array.isArray(points) && points.every(Array.isArray));
}

import { describe, expect, it } from 'vitest';
import { MetricsQuery } from '../../contracts/metrics-history.js';
import { issuePaths } from './issue-paths.js';

describe('MetricsQuery', () => {
  it('reads step as whole seconds, minutes or hours, up to a day', () => {
    expect(MetricsQuery.parse({ step: '30s' }).step).toBe(30);
    expect(MetricsQuery.parse({ step: '1m' }).step).toBe(60);
    expect(MetricsQuery.parse({ step: '24h' }).step).toBe(86_400);
    expect(MetricsQuery.parse({}).step).toBeUndefined();
  });

  it('names the parameter at fault', () => {
    for (const step of ['0s', '1.5m', '10', '1d', '25h', '-1m', ' 1m'])
      expect(issuePaths(MetricsQuery, { step })).toEqual(['step']);
    expect(issuePaths(MetricsQuery, { since: '2025-10-30' })).toEqual(['since']);
    expect(issuePaths(MetricsQuery, { since: '2025-10-30T14:00:00+01:00' })).toEqual([]);
    expect(issuePaths(MetricsQuery, { until: 'now' })).toEqual(['']);
  });
});

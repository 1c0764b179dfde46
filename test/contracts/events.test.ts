import { describe, expect, it } from 'vitest';
import { EVENTS_LIMIT_MAX, EventQuery } from '../../contracts/events.js';
import { issuePaths } from './issue-paths.js';

describe('EventQuery', () => {
  it('reads the numbers of a query written in decimal digits, with their defaults', () => {
    expect(EventQuery.parse({ after: '5', before: '0', limit: String(EVENTS_LIMIT_MAX) })).toMatchObject({
      after: 5,
      before: 0,
      limit: EVENTS_LIMIT_MAX,
    });
    expect(EventQuery.parse({})).toMatchObject({ after: 0, limit: 100, order: 'oldest' });
  });

  it.each(['', ' 5', '5 ', '0x10', '1e3', '+5', '-1', '1.5', 'Infinity', '9007199254740993'])(
    'refuses %j as a number, at its parameter',
    (text) => {
      expect(new Set(issuePaths(EventQuery, { after: text, before: text, limit: text }))).toEqual(
        new Set(['after', 'before', 'limit']),
      );
    },
  );

  it('keeps the bounds of limit', () => {
    expect(issuePaths(EventQuery, { limit: '0' })).toEqual(['limit']);
    expect(issuePaths(EventQuery, { limit: String(EVENTS_LIMIT_MAX + 1) })).toEqual(['limit']);
  });
});

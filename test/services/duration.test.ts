import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../services/duration.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['0', 0],
    ['0s', 0],
    ['1500', 1_500],
    ['2.5s', 2_500],
    ['0.25s', 250],
    ['1.0005s', 1_001],
    [' 30s\n', 30_000],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', ' ', 'ms', '30 s', '30S', '-1s', '+1s', '1e3', '.5s', '5.s', '1w', '1s2', 'Infinity', 'NaN', '30s30'])(
    '%j is malformed',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [250, '250ms'],
    [2_500, '2500ms'],
    [30_000, '30s'],
    [90_000, '90s'],
    [600_000, '10m'],
    [3_600_000, '1h'],
    [5_400_000, '90m'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('is the inverse of parseDuration', () => {
    for (const ms of [0, 1, 250, 999, 1_000, 2_500, 45_000, 61_000, 600_000, 7_200_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});

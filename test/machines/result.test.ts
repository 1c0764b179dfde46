import { describe, expect, it } from 'vitest';
import { fail, ok, type Result } from '../../machines/result.js';

const half = (n: number): Result<number, string> => (n % 2 === 0 ? ok(n / 2) : fail(`${n} is odd`));

describe('Result', () => {
  it('carries the value of a success and the reason of a failure, told apart by ok', () => {
    expect(half(4)).toEqual({ ok: true, value: 2 });
    expect(half(3)).toEqual({ ok: false, error: '3 is odd' });
    const results = [half(2), half(5)].map((result) => (result.ok ? result.value : result.error));
    expect(results).toEqual([1, '5 is odd']);
  });
});

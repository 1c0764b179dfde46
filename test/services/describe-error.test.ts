import { expect, describe as group, it } from 'vitest';
import { describe } from '../../services/describe-error.js';

group('describe', () => {
  it("names a failed fetch by its cause's code, else the cause's message, else the error's own", () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(describe(new TypeError('fetch failed', { cause: refused }))).toBe('ECONNREFUSED');
    expect(describe(new TypeError('fetch failed', { cause: new Error('other side hung up') }))).toBe(
      'other side hung up',
    );
    expect(describe(new Error('plain'))).toBe('plain');
    expect(describe('a string')).toBe('a string');
  });
});

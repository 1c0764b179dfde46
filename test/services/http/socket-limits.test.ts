import { describe, expect, it } from 'vitest';
import { connectionCap, openFilesLimit } from '../../../services/http/socket-limits.js';

const LIMITS_TEXT = `Limit                     Soft Limit           Hard Limit           Units
Max processes             63704                63704                processes
Max open files            1024                 1048576              files
`;

describe('socket limits', () => {
  it('reads the soft open-files limit', () => {
    expect(openFilesLimit(LIMITS_TEXT)).toBe(1024);
    expect(openFilesLimit('nothing here')).toBeUndefined();
  });

  it('keeps max-connections below the descriptor limit, with room for the rest of the process', () => {
    expect(connectionCap(10_000, 1024)).toBeLessThan(1024);
    expect(connectionCap(10_000, 1024)).toBeGreaterThan(800);
    expect(connectionCap(100, 1024)).toBe(100);
    expect(connectionCap(10_000, undefined)).toBe(10_000);
    expect(connectionCap(10_000, 10)).toBe(1);
  });
});

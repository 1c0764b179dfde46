import { describe, expect, it } from 'vitest';
import {
  cutText,
  HttpUrl,
  Id,
  LIMITS,
  NonNegative,
  NonNegativeInt,
  Percent,
  Port,
  Text,
  Timestamp,
} from '../../contracts/common.js';

describe('common bounds', () => {
  it.each<[string, { safeParse(value: unknown): { success: boolean } }, unknown[], unknown[]]>([
    [
      'Id (1–128 chars of well-formed Unicode, no control character)',
      Id,
      ['a', 'x'.repeat(128), 'gpu-node-1.lab', 'hive-ü-日本', 'hive-\u{1F41D}'],
      [
        '',
        'x'.repeat(129),
        7,
        null,
        'hive-\uD800',
        'hive-\uDC00x',
        'hive\u0000',
        'hive\n1',
        'hive\u001b[31m',
        'hive\u007f',
      ],
    ],
    [
      'Timestamp (RFC 3339 with Z or an offset)',
      Timestamp,
      ['2025-10-30T14:52:00Z', '2025-10-30T14:52:00.000Z', '2025-10-30T14:52:00.5-07:00', '2024-02-29T00:00:00Z'],
      [
        '2025-10-30T14:52:00',
        '2025-10-30',
        '2025-10-30 14:52:00Z',
        '2025-02-29T00:00:00Z',
        '2025-10-30T25:00:00Z',
        'Thu, 30 Oct 2025 14:52:00 GMT',
        1_761_835_920,
      ],
    ],
    [
      'Text (well-formed Unicode)',
      Text,
      ['', 'any text\n\t', 'bee \u{1F41D}', 'a\u2028b'],
      ['\ud800', 'x\udc00y', '\u{1F41D}'.slice(0, 1), 7],
    ],
    ['Percent (0–100)', Percent, [0, 0.01, 99.99, 100], [-0.01, 100.01, Number.NaN, '50']],
    ['NonNegative sizes', NonNegative, [0, 0.5, 24], [-0.001, Number.POSITIVE_INFINITY, '1']],
    ['NonNegativeInt counters', NonNegativeInt, [0, 1, 86_400], [-1, 1.5]],
    ['Port (1–65535)', Port, [1, 80, 65_535], [0, -1, 65_536, 80.5, '80']],
    [
      'HttpUrl (http and https only)',
      HttpUrl,
      ['http://127.0.0.1:7833', 'https://queen.example.org/x', 'HTTP://QUEEN:7833'],
      [
        'ftp://queen/',
        'file:///etc/passwd',
        'javascript:alert(1)',
        'ws://queen:7833',
        'queen:7833',
        '/v1/hives',
        '',
        'http://user:pw@queen:7833',
        'http://user@queen:7833',
        'https://:secret@queen/',
      ],
    ],
  ])('%s', (_label, schema, accepted, rejected) => {
    for (const value of accepted) expect(schema.safeParse(value).success, `accepts ${String(value)}`).toBe(true);
    for (const value of rejected) expect(schema.safeParse(value).success, `rejects ${String(value)}`).toBe(false);
    // No issue message echoes the value, a URL's password included.
    for (const value of rejected) expect(JSON.stringify(schema.safeParse(value))).not.toContain('secret');
  });

  it.each<[keyof typeof LIMITS, number]>([
    ['devices', 64],
    ['models', 10_000],
    ['workerTypes', 1_000],
    ['bodyBytes', 256 * 1024],
    ['headersTimeoutMs', 10 * 1000],
    ['requestTimeoutMs', 30 * 1000],
    ['idleTimeoutMs', 2 * 60 * 1000],
    ['maxConnections', 10_000],
  ])('keeps the protocol limit %s = %d', (name, value) => {
    expect(LIMITS[name]).toBe(value);
  });
});

describe('cutText', () => {
  it('cuts to the bound, never between the halves of a pair', () => {
    expect(cutText('abcdef', 4)).toBe('abcd');
    expect(cutText('abc', 4)).toBe('abc');
    expect(cutText('abc\u{1F41D}x', 4)).toBe('abc');
    expect(cutText('ab\u{1F41D}x', 4)).toBe('ab\u{1F41D}');
    expect(Text.safeParse(cutText('\u{1F41D}'.repeat(600), 1023)).success).toBe(true);
  });
});

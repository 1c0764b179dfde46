import { describe, expect, it } from 'vitest';
import { defined } from '../../services/defined.js';

describe('defined', () => {
  it('drops the undefined values and keeps every other one, falsy ones too', () => {
    const result = defined({ a: undefined, b: 0, c: '', d: null, e: false, f: 'x' });
    expect(result).toEqual({ b: 0, c: '', d: null, e: false, f: 'x' });
    expect(Object.keys(result)).not.toContain('a');
  });

  it('makes a copy: the record given is left as it was', () => {
    const record = { a: undefined, b: 1 };
    defined(record);
    expect(Object.keys(record)).toEqual(['a', 'b']);
  });
});

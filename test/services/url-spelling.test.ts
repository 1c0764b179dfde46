import { describe, expect, it } from 'vitest';
import { urlSpelling } from '../../services/url-spelling.js';

describe('urlSpelling', () => {
  it('spells one URL one way: scheme and host case, the default port and a lone trailing slash do not count', () => {
    const spellings = ['http://queen-1.lan:7833', 'HTTP://Queen-1.LAN:7833/', 'http://queen-1.lan:7833/'];
    expect(new Set(spellings.map(urlSpelling))).toEqual(new Set(['http://queen-1.lan:7833']));
    expect(urlSpelling('http://queen-1.lan:80/')).toBe('http://queen-1.lan');
  });

  it('keeps what makes two URLs different queens: port, scheme and path', () => {
    const distinct = ['http://q.lan:7833', 'http://q.lan:7834', 'https://q.lan:7833', 'http://q.lan:7833/apiary'];
    expect(new Set(distinct.map(urlSpelling)).size).toBe(distinct.length);
  });
});

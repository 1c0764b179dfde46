import { describe, expect, it } from 'vitest';
import { advertiseUrl, firstExternalIPv4 } from '../../services/advertise-url.js';

describe('advertise URL', () => {
  it('is the bound host and port when that host is reachable', () => {
    expect(advertiseUrl('127.0.0.1', 7835)).toBe('http://127.0.0.1:7835');
    expect(advertiseUrl('gpu-a.lan', 7835)).toBe('http://gpu-a.lan:7835');
    expect(advertiseUrl('::1', 9000)).toBe('http://[::1]:9000');
  });

  it("replaces a wildcard bind address with the machine's first non-internal IPv4 address", () => {
    const address = firstExternalIPv4();
    expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(advertiseUrl('0.0.0.0', 7835)).toBe(`http://${address}:7835`);
    expect(advertiseUrl('::', 7835)).toBe(`http://${address}:7835`);
  });
});

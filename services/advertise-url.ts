import os from 'node:os';

/** Hosts that mean "every interface": not an address anyone can reach. */
const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);

/** The machine's first non-internal IPv4 address, or loopback when it has none. */
export function firstExternalIPv4(): string {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return '127.0.0.1';
}

/**
 * Where others reach a role that listens on `host:port` (docs/protocol.md: Command line): `http://<host>:<port>`, with a wildcard bind
 * address replaced by the machine's first non-internal IPv4 address.
 */
export function advertiseUrl(host: string, port: number): string {
  const reachable = WILDCARD.has(host) ? firstExternalIPv4() : host;
  const literal = reachable.includes(':') && !reachable.startsWith('[') ? `[${reachable}]` : reachable;
  return `http://${literal}:${port}`;
}

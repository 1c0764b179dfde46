import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, portAvailable } from '../../services/ports.js';

const servers: net.Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

describe('ports', () => {
  it('finds a port that can then be bound', async () => {
    const port = await freePort('127.0.0.1');
    expect(port).toBeGreaterThan(0);
    expect(await portAvailable(port, '127.0.0.1')).toBe(true);
  });

  it('tells a taken port', async () => {
    const server = net.createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    expect(await portAvailable(port, '127.0.0.1')).toBe(false);
  });
});

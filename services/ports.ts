import net from 'node:net';

/** Binds `port` on `host` and releases it at once: the port the OS gave, or null when it is taken. */
function probe(port: number, host: string): Promise<number | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(null));
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : null;
      server.close(() => resolve(bound));
    });
  });
}

/** A port the OS reports free on `host` right now. */
export async function freePort(host: string): Promise<number> {
  const port = await probe(0, host);
  if (port === null) throw new Error(`no free port on ${host}`);
  return port;
}

/** Whether `port` can be bound on `host` right now. */
export async function portAvailable(port: number, host: string): Promise<boolean> {
  return (await probe(port, host)) !== null;
}

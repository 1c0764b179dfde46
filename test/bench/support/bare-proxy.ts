import http from 'node:http';

/**
 * The proxy benchmark's floor, run as its own process like the worker: a bare Node `http` proxy to the upstream given
 * as its one argument, that reads the body, parses it as JSON and pipes the upstream's answer back. Nothing else: no
 * token, no bound, no validation, no counting.
 */
const upstream = new URL(process.argv[2] ?? '');
const agent = new http.Agent({ keepAlive: true, noDelay: true });

const server = http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks);
    JSON.parse(body.toString('utf8'));
    const outgoing = http.request(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        path: request.url,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': body.byteLength },
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    outgoing.on('error', () => response.destroy());
    outgoing.end(body);
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (typeof address === 'object' && address !== null) process.send?.({ url: `http://127.0.0.1:${address.port}` });
});

// Never outlives the benchmark that forked it.
process.on('disconnect', () => process.exit(0));

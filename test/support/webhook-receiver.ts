import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type WebhookAlert, WebhookAlert as WebhookAlertSchema } from '../../contracts/alert.js';

/** What a loopback webhook receiver got: the parsed alert, its raw body and its signature header. */
export interface ReceivedAlert {
  alert: WebhookAlert;
  body: string;
  signature: string | undefined;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedAlert[];
  /** `ok` answers 204, `fail` 500, `hang` never answers (the request stays open). */
  behave(mode: 'ok' | 'fail' | 'hang'): void;
  /** Requests being held open by `hang`. */
  hanging(): number;
  /** Answers every request held by `hang` with 500, as a receiver that comes back fails what it held. */
  release(): void;
  /** Every request so far, answered or not. */
  requests(): number;
  close(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1 and a free port. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedAlert[] = [];
  const held = new Set<ServerResponse>();
  let mode: 'ok' | 'fail' | 'hang' = 'ok';
  let requests = 0;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    requests += 1;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (mode === 'hang') {
        held.add(response);
        response.on('close', () => held.delete(response));
        return;
      }
      if (mode === 'ok') {
        const body = Buffer.concat(chunks).toString('utf8');
        const signature = request.headers['x-apiary-signature'];
        received.push({
          alert: WebhookAlertSchema.parse(JSON.parse(body)),
          body,
          signature: typeof signature === 'string' ? signature : undefined,
        });
      }
      response.writeHead(mode === 'ok' ? 204 : 500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    behave: (next) => {
      mode = next;
    },
    hanging: () => held.size,
    release: () => {
      for (const response of held) response.writeHead(500).end();
    },
    requests: () => requests,
    close: () =>
      new Promise((resolve) => {
        for (const response of held) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

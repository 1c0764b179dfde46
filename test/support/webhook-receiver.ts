import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type WebhookAlert, WebhookAlert as WebhookAlertSchema } from '../../contracts/alert.js';
import { type LoopbackServer, listenOnLoopback, onBody } from './loopback-server.js';

/** What a loopback webhook receiver got: the parsed alert, its raw body and its signature header. */
export interface ReceivedAlert {
  alert: WebhookAlert;
  body: string;
  signature: string | undefined;
}

/** Closed when the test that started it finishes, requests held open by `hang` included. */
export interface WebhookReceiver extends LoopbackServer {
  received: ReceivedAlert[];
  /** `ok` answers 204, `fail` 500, `hang` never answers (the request stays open). */
  behave(mode: 'ok' | 'fail' | 'hang'): void;
  /** Requests being held open by `hang`. */
  hanging(): number;
  /** Answers every request held by `hang` with 500, as a receiver that comes back fails what it held. */
  release(): void;
  /** Every request so far, answered or not. */
  requests(): number;
}

/** A webhook receiver on 127.0.0.1 and a free port. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedAlert[] = [];
  const held = new Set<ServerResponse>();
  let mode: 'ok' | 'fail' | 'hang' = 'ok';
  let requests = 0;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    requests += 1;
    onBody(request, (body) => {
      if (mode === 'hang') {
        held.add(response);
        response.on('close', () => held.delete(response));
        return;
      }
      if (mode === 'ok') {
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
  const listening = await listenOnLoopback(server);
  return {
    ...listening,
    url: `${listening.url}/hook`,
    received,
    behave: (next) => {
      mode = next;
    },
    hanging: () => held.size,
    release: () => {
      for (const response of held) response.writeHead(500).end();
    },
    requests: () => requests,
  };
}

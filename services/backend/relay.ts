import http from 'node:http';
import { describe } from '../describe-error.js';
import { openAIErrorBody } from '../http/error-body.js';

/**
 * One request relayed to an OpenAI-compatible server over Node's HTTP client: a kept-alive connection, the request
 * sent in one write, a streamed answer's chunks handed on as they arrive. fetch and a stream per answer cost the
 * worker a large share of its CPU per request.
 */

export interface RelayOptions {
  /** The server's origin, no trailing slash. */
  base: string;
  path: string;
  request: Request;
  /** Keeps connections to the server open between requests. */
  agent: http.Agent;
  /** Bound on the whole exchange, the streamed answer included. */
  requestTimeoutMs: number;
  /** Bound on the wait for the answer to start. */
  firstByteTimeoutMs: number;
}

/** Request headers worth passing on; the client's Authorization is this worker's token, never the upstream's. */
const FORWARDED_REQUEST_HEADERS = ['content-type', 'accept', 'accept-language', 'user-agent', 'x-request-id'];

/** Response headers that describe the hop, not the answer. */
const DROPPED_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade']);

/**
 * A sized answer up to this many bytes (a whole, non-streamed completion) goes on in one write with its headers; a
 * streamed or larger one chunk by chunk. Each extra write is a loopback round through the kernel per request.
 */
const WHOLE_ANSWER_BYTES = 1024 * 1024;

/** A kept-alive agent for one upstream; Nagle off, so a small request or chunk is never held back. */
export function createRelayAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, noDelay: true });
}

/**
 * The server's answer, its body streamed; a 502 or 504 in OpenAI's error shape when there is none. Rejects only when
 * the client went away (its request's signal aborted).
 */
export async function relay(options: RelayOptions): Promise<Response> {
  const { base, path, request, requestTimeoutMs, firstByteTimeoutMs } = options;
  const body = Buffer.from(await request.arrayBuffer());
  const headers: http.OutgoingHttpHeaders = { 'accept-encoding': 'identity', 'content-length': body.byteLength };
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = request.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  const signal = request.signal;
  signal.throwIfAborted();

  return new Promise<Response>((resolve, reject) => {
    const outgoing = http.request(`${base}${path}`, { method: 'POST', headers, agent: options.agent });
    let waited: number | null = null;
    const cut = (ms: number) => () => {
      waited = ms;
      outgoing.destroy(new Error(`no answer within ${ms} ms`));
    };
    const firstByte = setTimeout(cut(firstByteTimeoutMs), firstByteTimeoutMs);
    const whole = setTimeout(cut(requestTimeoutMs), requestTimeoutMs);
    const onAbort = (): void => {
      outgoing.destroy(signal.reason instanceof Error ? signal.reason : new Error('client went away'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const finish = (): void => {
      clearTimeout(firstByte);
      clearTimeout(whole);
      signal.removeEventListener('abort', onAbort);
    };
    // Before the answer is handed on, a failure is this request's answer; after, it fails the streamed body.
    const failed = (error: Error): void => {
      finish();
      if (signal.aborted) reject(error);
      else if (waited !== null) {
        resolve(openAIError(504, 'timeout', `upstream ${base} did not answer within ${waited} ms`));
      } else resolve(openAIError(502, 'upstream_unreachable', `upstream ${base} unreachable: ${describe(error)}`));
    };

    outgoing.on('error', failed);
    outgoing.once('response', (incoming) => {
      clearTimeout(firstByte);
      incoming.once('close', finish);
      const status = incoming.statusCode ?? 0;
      // A web Response takes 200–599 only; anything else from the engine is a broken answer, not a crash.
      if (status < 200 || status > 599) {
        incoming.destroy();
        finish();
        resolve(openAIError(502, 'upstream_invalid', `upstream ${base} answered with status ${status}`));
        return;
      }
      const init = { status, statusText: incoming.statusMessage ?? '', headers: headersOf(incoming.rawHeaders) };
      if (NULL_BODY_STATUSES.has(status)) {
        incoming.resume();
        resolve(new Response(null, init));
        return;
      }
      const length = Number(incoming.headers['content-length']);
      if (length <= WHOLE_ANSWER_BYTES) {
        readWhole(incoming).then((bytes) => resolve(new Response(bytes, init)), failed);
        return;
      }
      init.headers.delete('content-length');
      resolve(new Response(streamOf(incoming), init));
    });
    outgoing.end(body);
  });
}

/** Statuses whose answer has no body: a web Response refuses one, even an empty stream. */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/** A sized answer's bytes; rejects when it ends short. */
function readWhole(incoming: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let over = false;
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.once('end', () => {
      over = true;
      resolve(Buffer.concat(chunks));
    });
    incoming.on('error', reject);
    incoming.once('close', () => {
      if (!over) reject(incoming.errored ?? new Error('upstream closed the answer before its end'));
    });
  });
}

/** The answer's body as a web stream: each chunk as it arrives, paused while the reader is behind. */
function streamOf(incoming: http.IncomingMessage): ReadableStream<Uint8Array> {
  let over = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      incoming.on('data', (chunk: Buffer) => {
        controller.enqueue(chunk);
        if ((controller.desiredSize ?? 0) <= 0) incoming.pause();
      });
      incoming.once('end', () => {
        over = true;
        controller.close();
      });
      // A body cut short (timeout, abort, the server gone) fails the stream: the client must not take it as whole.
      const fail = (error: Error): void => {
        if (over) return;
        over = true;
        controller.error(error);
      };
      incoming.on('error', fail);
      incoming.once('close', () => fail(new Error('upstream closed the answer before its end')));
    },
    pull() {
      incoming.resume();
    },
    cancel() {
      over = true;
      incoming.destroy();
    },
  });
}

function headersOf(raw: readonly string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    if (!DROPPED_RESPONSE_HEADERS.has(name.toLowerCase())) headers.append(name, raw[i + 1] ?? '');
  }
  return headers;
}

export function openAIError(status: number, type: string, message: string): Response {
  return Response.json(openAIErrorBody(status, type, message), { status });
}

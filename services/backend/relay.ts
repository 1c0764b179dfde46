import http from 'node:http';
import { urlToHttpOptions } from 'node:url';
import { describe } from '../describe-error.js';
import { openAIErrorBody } from '../http/error-body.js';
import type { InferenceCall, RelayOutcome } from './backend.js';
import { connectionNames, endToEndHeaders, isHopByHop } from './hop-by-hop.js';

/**
 * One request relayed to an OpenAI-compatible server with Node's HTTP client, its answer piped into the client's
 * Node response: no web Request, Response or stream per request (they cost the worker most of its CPU per request),
 * a sized answer out in one write with its headers, a streamed one chunk by chunk as it arrives, with backpressure.
 */

export interface RelayOptions {
  /** The server's origin, no trailing slash. */
  base: string;
  /** `base` parsed once (`relayTarget`): given a URL string, Node's client would parse it again for every request. */
  target: RelayTarget;
  /** Keeps connections to the server open between requests. */
  agent: http.Agent;
  /** Bound on the whole exchange, the streamed answer included. */
  requestTimeoutMs: number;
  /** Bound on the wait for the answer to start. */
  firstByteTimeoutMs: number;
}

/**
 * Request headers worth passing on. The client's Authorization is this worker's token, never the upstream's;
 * Accept-Encoding goes on, so a compressed answer comes back as it was compressed and is never decoded here.
 */
const FORWARDED_REQUEST_HEADERS = [
  'content-type',
  'accept',
  'accept-encoding',
  'accept-language',
  'user-agent',
  'x-request-id',
];

/** Connections open at once to one upstream; more requests wait for one (an engine serves a few slots anyway). */
export const RELAY_MAX_SOCKETS = 64;

/** Where an upstream listens, as Node's client takes it, and the path its routes sit under (empty at the root). */
export interface RelayTarget {
  origin: Pick<http.RequestOptions, 'protocol' | 'hostname' | 'port'>;
  prefix: string;
}

export function relayTarget(base: string): RelayTarget {
  const url = new URL(base);
  const { protocol, hostname, port } = urlToHttpOptions(url);
  return { origin: { protocol, hostname, port }, prefix: url.pathname.replace(/\/+$/, '') };
}

/** A kept-alive, bounded agent for one upstream; Nagle off, so a small request or chunk is never held back. */
export function createRelayAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, noDelay: true, maxSockets: RELAY_MAX_SOCKETS });
}

/**
 * Sends `call` to the server and writes its answer to `reply`: the status and end-to-end headers as they came, the
 * body byte for byte. Without an answer, a 502 or 504 in OpenAI's error shape; an answer cut short cuts `reply` (the
 * client must not take it as whole). Resolves when `reply` closes.
 */
export function relay(options: RelayOptions, call: InferenceCall, reply: http.ServerResponse): Promise<RelayOutcome> {
  const { base, requestTimeoutMs, firstByteTimeoutMs } = options;
  const body = Buffer.from(call.body);
  const connection = call.header('connection');
  const named = connectionNames(connection === undefined ? [] : [connection]);
  const headers: http.OutgoingHttpHeaders = { 'content-length': body.byteLength };
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = call.header(name);
    if (value !== undefined && !isHopByHop(name, named)) headers[name] = value;
  }

  // A client gone while its body was read: its response has closed already, and nothing is sent on.
  if (reply.destroyed) return Promise.resolve({ status: reply.statusCode, complete: false });
  return new Promise<RelayOutcome>((resolve) => {
    const outgoing = http.request({
      ...options.target.origin,
      path: `${options.target.prefix}${call.path}`,
      method: 'POST',
      headers,
      agent: options.agent,
    });
    let waited: number | null = null;
    const cut = (ms: number) => () => {
      waited = ms;
      outgoing.destroy(new Error(`no answer within ${ms} ms`));
    };
    const firstByte = setTimeout(cut(firstByteTimeoutMs), firstByteTimeoutMs);
    const whole = setTimeout(cut(requestTimeoutMs), requestTimeoutMs);
    outgoing.once('close', () => {
      clearTimeout(firstByte);
      clearTimeout(whole);
      // Gone with no answer and no error (a 101 it cannot take, a head it cannot pass on): never a client left waiting.
      if (!reply.headersSent && !reply.destroyed) {
        answerError(reply, 502, 'upstream_invalid', `upstream ${base} gave no answer that can be relayed`);
      }
    });
    // The client gone before its answer is over: the upstream request goes too.
    reply.once('close', () => {
      if (!reply.writableFinished) outgoing.destroy();
      resolve({ status: reply.statusCode, complete: reply.writableFinished });
    });

    outgoing.on('error', (error) => {
      if (reply.headersSent || reply.destroyed) return;
      if (waited !== null) answerError(reply, 504, 'timeout', `upstream ${base} did not answer within ${waited} ms`);
      else answerError(reply, 502, 'upstream_unreachable', `upstream ${base} unreachable: ${describe(error)}`);
    });
    outgoing.once('response', (incoming) => {
      clearTimeout(firstByte);
      const status = incoming.statusCode ?? 0;
      if (status < 200 || status > 599) {
        incoming.destroy();
        answerError(reply, 502, 'upstream_invalid', `upstream ${base} answered with status ${status}`);
        return;
      }
      try {
        reply.writeHead(status, incoming.statusMessage, endToEndHeaders(incoming.rawHeaders));
      } catch {
        // A reason or header Node's parser took but its writer refuses (a control character): a 502, not a crash.
        incoming.destroy();
        return;
      }
      // A body cut short reaches the client cut, never as whole (a gone client frees the upstream: see above).
      incoming.once('close', () => {
        if (!incoming.complete) reply.destroy();
      });
      incoming.pipe(reply);
    });
    outgoing.end(body);
  });
}

function answerError(reply: http.ServerResponse, status: number, type: string, message: string): void {
  const text = JSON.stringify(openAIErrorBody(status, type, message));
  // Its own reason: a refused upstream one stays on `reply` (writeHead keeps it before checking it).
  reply.writeHead(status, http.STATUS_CODES[status] ?? '', {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  reply.end(text);
}

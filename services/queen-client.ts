import ky, { TimeoutError } from 'ky';
import type { z } from 'zod';
import {
  ErrorBody,
  HeartbeatAck,
  type HiveHeartbeat,
  LeaderRedirect,
  type WorkerHeartbeat,
} from '../contracts/heartbeat.js';
import { QUEEN_PATHS } from '../contracts/paths.js';
import { fail, ok } from '../machines/result.js';
import type { SendFailure, SendOutcome } from '../machines/send-outcome.js';
import { issueLine, jsonOf, parseJson } from './parse-json.js';
import { urlSpelling } from './url-spelling.js';

/**
 * The one implementation of "send a heartbeat" that hive and worker share (the design's Rule Zero): one POST,
 * no retries (the lifecycle machine owns backoff), and every failure classified instead of thrown.
 */
export interface QueenClientOptions {
  /** Sent as `Authorization: Bearer <token>` when set. */
  token?: string | undefined;
  /** Bound on one whole exchange: connecting, the answer's headers and its body. */
  timeoutMs: number;
  /** For tests and the simulator; the global fetch otherwise. */
  fetch?: typeof fetch;
}

export interface QueenClient {
  sendHiveHeartbeat(queenUrl: string, body: HiveHeartbeat, signal?: AbortSignal): Promise<SendOutcome>;
  sendWorkerHeartbeat(queenUrl: string, body: WorkerHeartbeat, signal?: AbortSignal): Promise<SendOutcome>;
}

/** Longest part of an unexpected answer quoted in a failure message. */
const QUOTE_CHARS = 200;

export function createQueenClient(options: QueenClientOptions): QueenClient {
  const http = ky.create({
    retry: 0,
    // A follower's 307 names the leader: the sender follows it itself, so it talks to the leader from then on.
    redirect: 'manual',
    timeout: options.timeoutMs,
    throwHttpErrors: false,
    headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });

  function post<B>(path: string, ackSchema: z.ZodType<HeartbeatAck>) {
    return async (queenUrl: string, body: B, signal?: AbortSignal): Promise<SendOutcome> => {
      const url = `${queenUrl.replace(/\/+$/, '')}${path}`;
      // ky's timeout stops at the headers; this deadline also bounds reading the body, so a send always settles.
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(), options.timeoutMs);
      const combined = signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal;
      try {
        const response = await http.post(url, { json: body, signal: combined });
        const text = await response.text();
        if (response.status === 307 || response.status === 308) return redirected(response, text);
        if (!response.ok) return fail({ kind: 'http', status: response.status, message: httpMessage(response, text) });
        return parseAck(text, ackSchema);
      } catch (error) {
        if (signal?.aborted) return fail({ kind: 'aborted', message: 'send aborted' });
        if (error instanceof TimeoutError || deadline.signal.aborted) {
          return fail({ kind: 'timeout', message: `no answer from ${url} within ${options.timeoutMs} ms` });
        }
        return fail(networkFailure(error, url));
      } finally {
        clearTimeout(timer);
      }
    };
  }

  return {
    sendHiveHeartbeat: post<HiveHeartbeat>(QUEEN_PATHS.hiveHeartbeat, HeartbeatAck),
    sendWorkerHeartbeat: post<WorkerHeartbeat>(QUEEN_PATHS.workerHeartbeat, HeartbeatAck),
  };
}

/** The leader from the body's `leader_url`, else from `location` (less its path), spelled as `--queen-url` is. */
function redirected(response: Response, text: string): SendOutcome {
  const body = LeaderRedirect.safeParse(jsonOf(text));
  const location = response.headers.get('location');
  const leaderUrl = body.success
    ? urlSpelling(body.data.leader_url)
    : location && URL.canParse(location)
      ? new URL(location).origin
      : null;
  if (leaderUrl === null) return fail({ kind: 'bad-response', message: `${response.status} without a leader` });
  return fail({ kind: 'redirect', leaderUrl, message: `${response.status}: the leader is ${leaderUrl}` });
}

function parseAck(text: string, ackSchema: z.ZodType<HeartbeatAck>): SendOutcome {
  const ack = parseJson(ackSchema, text);
  if (ack.ok) return ok(ack.value);
  if (ack.error.notJson) return fail({ kind: 'bad-response', message: `answer is not JSON: ${quote(text)}` });
  return fail({ kind: 'bad-response', message: `answer is not a heartbeat ack: ${issueLine(ack.error.issues)}` });
}

/** `401 Unauthorized: <the queen's error sentence>` when the answer is the protocol's error body. */
function httpMessage(response: Response, text: string): string {
  const head = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  const json = jsonOf(text);
  if (json === undefined) return text ? `${head}: ${quote(text)}` : head;
  const body = ErrorBody.safeParse(json);
  return body.success ? `${head}: ${body.data.error}` : head;
}

function networkFailure(error: unknown, url: string): SendFailure {
  const code = errorCode(error) ?? 'UNKNOWN';
  if (code === 'ECONNREFUSED') return { kind: 'refused', message: `connection refused by ${url}` };
  const message = error instanceof Error ? errorMessage(error) : String(error);
  return { kind: 'network', code, message: `${message} (${url})` };
}

/** The errno-style code of a failed fetch: undici puts it on `cause`, or on each error of an AggregateError. */
function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  if ('code' in error && typeof error.code === 'string') return error.code;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const code = errorCode(inner);
      if (code) return code;
    }
  }
  return 'cause' in error ? errorCode(error.cause) : undefined;
}

function errorMessage(error: Error): string {
  const cause = error.cause;
  return cause instanceof Error && cause.message ? `${error.message}: ${cause.message}` : error.message;
}

function quote(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > QUOTE_CHARS ? `${flat.slice(0, QUOTE_CHARS)}…` : flat);
}

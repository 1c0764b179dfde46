import type { ServerResponse } from 'node:http';
import type { WORKER_PATHS } from '../../contracts/paths.js';

/** The two OpenAI-compatible routes a worker serves through its backend. */
export type InferencePath = typeof WORKER_PATHS.chatCompletions | typeof WORKER_PATHS.completions;

/** `starting` while the backend loads (llama-server's 503 "Loading model"), `error` when it is down. */
export type BackendHealth = 'ready' | 'starting' | 'error';

/** One inference request as the worker hands it on: no web Request is built for it, that costs per request. */
export interface InferenceCall {
  path: InferencePath;
  /** The body as the client sent it (already read and validated by the worker). */
  body: string;
  /** One of the client's request headers, by lower-case name. */
  header(name: string): string | undefined;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
}

/** How a relayed request ended: the status the client was sent, and whether its whole answer went out. */
export interface RelayOutcome {
  status: number;
  complete: boolean;
}

interface BackendChecks {
  /** One health check; resolves, never rejects. */
  health(signal?: AbortSignal): Promise<BackendHealth>;
  /** The served models as the backend lists them (`GET /v1/models`); null when it does not answer. */
  models?(signal: AbortSignal): Promise<unknown>;
}

/** The built-in demo backend: answers in the process, as a web Response. */
export interface AnsweringBackend extends BackendChecks {
  readonly kind: 'demo';
  /**
   * Serves one request; a streamed answer passes through as it is produced, and the call's signal stops the work
   * when the client goes away.
   */
  answer(call: InferenceCall): Promise<Response>;
}

/** An upstream OpenAI-compatible server: its answer is written straight to the client's Node response. */
export interface RelayingBackend extends BackendChecks {
  readonly kind: 'upstream';
  /**
   * Relays one request and writes the answer (or a 502/504 in OpenAI's error shape) to `reply`, streamed chunks as
   * they arrive; resolves once `reply` is closed, never rejects.
   */
  relay(call: InferenceCall, reply: ServerResponse): Promise<RelayOutcome>;
}

/** What a worker fronts. */
export type InferenceBackend = AnsweringBackend | RelayingBackend;

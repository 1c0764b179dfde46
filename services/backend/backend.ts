import type { WORKER_PATHS } from '../../contracts/paths.js';

/** The two OpenAI-compatible routes a worker serves through its backend. */
export type InferencePath = typeof WORKER_PATHS.chatCompletions | typeof WORKER_PATHS.completions;

/** `starting` while the backend loads (llama-server's 503 "Loading model"), `error` when it is down. */
export type BackendHealth = 'ready' | 'starting' | 'error';

/** What a worker fronts: the built-in demo backend or an upstream OpenAI-compatible server. */
export interface InferenceBackend {
  readonly kind: 'demo' | 'upstream';
  /** One health check; resolves, never rejects. */
  health(signal?: AbortSignal): Promise<BackendHealth>;
  /**
   * Serves one request to `path`; a streamed answer passes through as it is produced. The request's signal aborts
   * the work when the client goes away; a failure to reach the backend is an error response, not a rejection.
   */
  handle(path: InferencePath, request: Request): Promise<Response>;
  /** The served models as the backend lists them (`GET /v1/models`); null when it does not answer. */
  models?(signal: AbortSignal): Promise<unknown>;
}

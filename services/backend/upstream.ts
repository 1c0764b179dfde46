import { describe } from '../describe-error.js';
import { openAIErrorBody } from '../http/error-body.js';
import type { BackendHealth, InferenceBackend } from './backend.js';

export interface UpstreamBackendOptions {
  /** Base URL of an OpenAI-compatible server (llama-server, vLLM, Ollama), with or without a trailing `/v1`. */
  url: string;
  /** Bound on each health probe: a hung upstream reads as `error`, never as a hung check. */
  healthTimeoutMs?: number;
  /** Bound on a whole request, its streamed body included (504 when it passes before the answer starts). */
  requestTimeoutMs?: number;
  /** Bound on the wait for the answer to start. */
  firstByteTimeoutMs?: number;
}

export const DEFAULT_UPSTREAM_TIMEOUT_MS = 600_000;
export const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 60_000;

export const DEFAULT_HEALTH_TIMEOUT_MS = 2_000;

/** Request headers worth passing on; the client's Authorization is this worker's token, never the upstream's. */
const FORWARDED_REQUEST_HEADERS = ['content-type', 'accept', 'accept-language', 'user-agent', 'x-request-id'];

/** Response headers that describe the hop, not the answer: fetch has already decoded the body they applied to. */
const DROPPED_RESPONSE_HEADERS = [
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-encoding',
  'content-length',
  'upgrade',
];

/** Fronts an OpenAI-compatible server: health from its `/health` (or `/v1/models`), requests proxied and streamed. */
export function createUpstreamBackend(options: UpstreamBackendOptions): InferenceBackend {
  const base = options.url.replace(/\/+$/, '').replace(/\/v1$/, '');
  const healthTimeoutMs = options.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
  const firstByteTimeoutMs = options.firstByteTimeoutMs ?? DEFAULT_FIRST_BYTE_TIMEOUT_MS;

  const probe = async (path: string, signal: AbortSignal): Promise<number> => {
    const response = await fetch(`${base}${path}`, { signal, headers: { accept: 'application/json' } });
    await response.body?.cancel();
    return response.status;
  };

  return {
    kind: 'upstream',
    async health(signal) {
      const timeout = AbortSignal.timeout(healthTimeoutMs);
      const bounded = signal ? AbortSignal.any([signal, timeout]) : timeout;
      try {
        const status = await probe('/health', bounded);
        return healthOf(status === 404 ? await probe('/v1/models', bounded) : status);
      } catch {
        return 'error';
      }
    },
    async models(signal) {
      try {
        const response = await fetch(`${base}/v1/models`, {
          signal: AbortSignal.any([signal, AbortSignal.timeout(healthTimeoutMs)]),
          headers: { accept: 'application/json' },
        });
        return response.ok ? await response.json() : null;
      } catch {
        return null;
      }
    },
    async handle(path, request) {
      const headers = new Headers({ 'accept-encoding': 'identity' });
      for (const name of FORWARDED_REQUEST_HEADERS) {
        const value = request.headers.get(name);
        if (value !== null) headers.set(name, value);
      }
      const firstByte = new AbortController();
      const firstByteTimer = setTimeout(() => firstByte.abort(), firstByteTimeoutMs);
      const whole = AbortSignal.timeout(requestTimeoutMs);
      let upstream: Response;
      try {
        upstream = await fetch(`${base}${path}`, {
          method: 'POST',
          headers,
          body: await request.arrayBuffer(),
          signal: AbortSignal.any([request.signal, whole, firstByte.signal]),
        });
      } catch (error) {
        if (request.signal.aborted) throw error;
        if (whole.aborted || firstByte.signal.aborted) {
          const waited = whole.aborted ? requestTimeoutMs : firstByteTimeoutMs;
          return openAIError(504, 'timeout', `upstream ${base} did not answer within ${waited} ms`);
        }
        return openAIError(502, 'upstream_unreachable', `upstream ${base} unreachable: ${describe(error)}`);
      } finally {
        clearTimeout(firstByteTimer);
      }
      const responseHeaders = new Headers(upstream.headers);
      for (const name of DROPPED_RESPONSE_HEADERS) responseHeaders.delete(name);
      return new Response(upstream.body, {
        status: upstream.status,
        statusText: upstream.statusText,
        headers: responseHeaders,
      });
    },
  };
}

function openAIError(status: number, type: string, message: string): Response {
  return Response.json(openAIErrorBody(status, type, message), { status });
}

/** llama-server answers 503 while it loads the model; vLLM and Ollama answer 200 once they serve. */
function healthOf(status: number): BackendHealth {
  if (status >= 200 && status < 300) return 'ready';
  if (status === 503) return 'starting';
  return 'error';
}

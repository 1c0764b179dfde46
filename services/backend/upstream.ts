import type { BackendHealth, RelayingBackend } from './backend.js';
import { createRelayAgent, relay, relayTarget } from './relay.js';

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

/** Fronts an OpenAI-compatible server: health from its `/health` (or `/v1/models`), requests proxied and streamed. */
export function createUpstreamBackend(options: UpstreamBackendOptions): RelayingBackend {
  const base = options.url.replace(/\/+$/, '').replace(/\/v1$/, '');
  const healthTimeoutMs = options.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
  const firstByteTimeoutMs = options.firstByteTimeoutMs ?? DEFAULT_FIRST_BYTE_TIMEOUT_MS;
  const relayOptions = {
    base,
    target: relayTarget(base),
    agent: createRelayAgent(),
    requestTimeoutMs,
    firstByteTimeoutMs,
  };

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
    relay: (call, reply) => relay(relayOptions, call, reply),
  };
}

/** llama-server answers 503 while it loads the model; vLLM and Ollama answer 200 once they serve. */
function healthOf(status: number): BackendHealth {
  if (status >= 200 && status < 300) return 'ready';
  if (status === 503) return 'starting';
  return 'error';
}

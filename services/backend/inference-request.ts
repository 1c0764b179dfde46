import type { z } from 'zod';
import type { ErrorBody } from '../../contracts/heartbeat.js';
import { ChatCompletionRequest, CompletionRequest } from '../../contracts/inference.js';
import { WORKER_PATHS } from '../../contracts/paths.js';
import type { InferencePath } from './backend.js';

/** A validated inference request body, tagged with the route it was sent to. */
export type InferenceRequest =
  | { path: typeof WORKER_PATHS.chatCompletions; body: ChatCompletionRequest }
  | { path: typeof WORKER_PATHS.completions; body: CompletionRequest };

export type ParsedInference = { ok: true; request: InferenceRequest } | { ok: false; error: ErrorBody };

/** Parses and checks the body of a request to `path`; a refusal carries the zod issue paths. */
export function parseInferenceRequest(path: InferencePath, text: string): ParsedInference {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: { error: 'request body is not valid JSON' } };
  }
  if (path === WORKER_PATHS.chatCompletions) {
    const parsed = ChatCompletionRequest.safeParse(json);
    return parsed.success ? { ok: true, request: { path, body: parsed.data } } : refusal(path, parsed.error);
  }
  const parsed = CompletionRequest.safeParse(json);
  return parsed.success ? { ok: true, request: { path, body: parsed.data } } : refusal(path, parsed.error);
}

function refusal(path: InferencePath, error: z.ZodError): ParsedInference {
  return {
    ok: false,
    error: {
      error: `invalid ${path} request body`,
      issues: error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
    },
  };
}

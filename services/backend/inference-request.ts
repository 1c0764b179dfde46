import type { ErrorBody } from '../../contracts/heartbeat.js';
import { ChatCompletionRequest, CompletionRequest } from '../../contracts/inference.js';
import { WORKER_PATHS } from '../../contracts/paths.js';
import { fail, ok, type Result } from '../../machines/result.js';
import { errorBody } from '../http/error-body.js';
import { type JsonRefusal, parseJson } from '../parse-json.js';
import type { InferencePath } from './backend.js';

/** A validated inference request body, tagged with the route it was sent to. */
export type InferenceRequest =
  | { path: typeof WORKER_PATHS.chatCompletions; body: ChatCompletionRequest }
  | { path: typeof WORKER_PATHS.completions; body: CompletionRequest };

export type ParsedInference = Result<InferenceRequest, ErrorBody>;

/** Parses and checks the body of a request to `path`; a refusal carries the zod issue paths. */
export function parseInferenceRequest(path: InferencePath, text: string): ParsedInference {
  if (path === WORKER_PATHS.chatCompletions) {
    const parsed = parseJson(ChatCompletionRequest, text);
    return parsed.ok ? ok({ path, body: parsed.value }) : refusal(path, parsed.error);
  }
  const parsed = parseJson(CompletionRequest, text);
  return parsed.ok ? ok({ path, body: parsed.value }) : refusal(path, parsed.error);
}

function refusal(path: InferencePath, refused: JsonRefusal): ParsedInference {
  if (refused.notJson) return fail(errorBody('request body is not valid JSON'));
  return fail(errorBody(`invalid ${path} request body`, refused.issues));
}

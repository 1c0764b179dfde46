import type { ErrorBody, ErrorIssue } from '../../contracts/heartbeat.js';
import type { OpenAIError } from '../../contracts/inference.js';

/** The error bodies of every app (docs/protocol.md: Errors): one sentence and, for a bad payload, each issue at its dotted path. */

export function errorBody(error: string, issues?: ErrorIssue[]): ErrorBody {
  return issues === undefined ? { error } : { error, issues };
}

/** Where the worker speaks OpenAI for an engine it fronts (its proxy's 502 and 504), OpenAI's shape, so OpenAI clients read it. */
export function openAIErrorBody(status: number, type: string, message: string): OpenAIError {
  return { error: { message, type, code: status } };
}

import type { z } from 'zod';
import type { ErrorBody, ErrorIssue } from '../../contracts/heartbeat.js';

/** docs/protocol.md: Queen HTTP API's error body: one sentence and, for a bad payload, each issue at its dotted path. */

export function issuesOf(error: z.ZodError): ErrorIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

export function errorBody(error: string, issues?: ErrorIssue[]): ErrorBody {
  return issues === undefined ? { error } : { error, issues };
}

import type { z } from 'zod';
import type { ErrorIssue } from '../contracts/heartbeat.js';
import { describe } from './describe-error.js';

/** A JSON text checked against a schema: the value, or why not (the parser's message at path `""`, or each issue). */
export type ParsedJson<T> = { ok: true; value: T } | { ok: false; notJson: boolean; issues: ErrorIssue[] };

export function parseJson<S extends z.ZodType>(schema: S, text: string): ParsedJson<z.output<S>> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, notJson: true, issues: [{ path: '', message: describe(error) }] };
  }
  const parsed = schema.safeParse(json);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, notJson: false, issues: issuesOf(parsed.error) };
}

/** Each zod issue at its dotted path (`""` for the whole value). */
export function issuesOf(error: z.ZodError): ErrorIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

/** The issues on one line for a log or a command-line message: `a.b: message; (root): message`. */
export function issueLine(issues: readonly ErrorIssue[]): string {
  return issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ');
}

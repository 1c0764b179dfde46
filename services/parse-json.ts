import type { z } from 'zod';
import { LIMITS } from '../contracts/common.js';
import type { ErrorIssue } from '../contracts/heartbeat.js';
import { fail, ok, type Result } from '../machines/result.js';
import { describe } from './describe-error.js';

/** Why a JSON text was refused: not JSON at all (the parser's message at path `""`), or each issue of the schema. */
export interface JsonRefusal {
  notJson: boolean;
  issues: ErrorIssue[];
}

/** A JSON text checked against a schema: the value, or why not. */
export type ParsedJson<T> = Result<T, JsonRefusal>;

export function parseJson<S extends z.ZodType>(schema: S, text: string): ParsedJson<z.output<S>> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return fail({ notJson: true, issues: [{ path: '', message: describe(error) }] });
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? ok(parsed.data) : fail({ notJson: false, issues: issuesOf(parsed.error) });
}

/** The parsed JSON of a text, for answers read without trusting their shape; undefined when it is not JSON. */
export function jsonOf(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Each zod issue at its dotted path (`""` for the whole value), up to the listed bound and then a count of the rest. */
export function issuesOf(error: z.ZodError): ErrorIssue[] {
  const listed = error.issues
    .slice(0, LIMITS.listedIssues)
    .map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
  const rest = error.issues.length - listed.length;
  return rest > 0 ? [...listed, { path: '', message: `and ${rest} more issues, not listed` }] : listed;
}

/** The issues on one line for a log or a command-line message: `a.b: message; (root): message`. */
export function issueLine(issues: readonly ErrorIssue[]): string {
  return issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ');
}

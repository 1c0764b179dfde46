import { createMiddleware } from 'hono/factory';
import { z } from 'zod';
import type { ErrorBody } from '../../../contracts/heartbeat.js';
import { fail, type Result } from '../../../machines/result.js';
import { parseJson } from '../../parse-json.js';
import { errorBody } from '../error-body.js';

export interface JsonBodyOptions {
  /** A request without a content-type passes as JSON (OpenAI clients often send none); a declared other type is 415. */
  untypedIsJson?: boolean;
}

/**
 * Reads a JSON request body once, parses it once and validates it against `schema`: 415 when it is not declared
 * JSON, 400 with the issue paths when it is broken or invalid. The handler reads the result as `c.get('body')`.
 */
export function jsonBody<S extends z.ZodType>(schema: S, what: string, options: JsonBodyOptions = {}) {
  const reader = jsonBodyReader(schema, what, options);
  return createMiddleware<{ Variables: { body: z.output<S> } }>(async (c, next) => {
    const type = c.req.header('content-type');
    const typeRefusal = reader.refuseType(type);
    if (typeRefusal !== null) return c.json(typeRefusal.body, typeRefusal.status);
    const read = reader.read(await c.req.text());
    if (!read.ok) return c.json(read.error.body, read.error.status);
    c.set('body', read.value);
    return next();
  });
}

/** A refused body: its status and the error body to answer with. */
export interface BodyRefusal {
  status: 400 | 415;
  body: ErrorBody;
}

/** The checks of `jsonBody`, for a route served without Hono: the declared type first, then the text. */
export interface JsonBodyReader<T> {
  /** 415 unless the content type is JSON (or absent, where `untypedIsJson`); null when it passes. */
  refuseType(contentType: string | undefined): BodyRefusal | null;
  /** 400 with the issue paths unless `text` is JSON that the schema takes. */
  read(text: string): Result<T, BodyRefusal>;
}

export function jsonBodyReader<S extends z.ZodType>(
  schema: S,
  what: string,
  options: JsonBodyOptions = {},
): JsonBodyReader<z.output<S>> {
  // Compiled once: the same results and issues as `schema`, several times faster on a heartbeat (see test/bench).
  const compiled = z.compile(schema);
  return {
    refuseType: (type) =>
      isJson(type) || (type === undefined && options.untypedIsJson === true)
        ? null
        : { status: 415, body: errorBody(`The ${what} must be sent as application/json.`) },
    read: (text) => {
      const parsed = parseJson(compiled, text);
      if (parsed.ok) return parsed;
      const sentence = parsed.error.notJson ? `The ${what} is not valid JSON.` : `The ${what} is not valid.`;
      return fail({ status: 400, body: errorBody(sentence, parsed.error.issues) });
    },
  };
}

/** `application/json`, `application/json; charset=utf-8`, or an `application/*+json` type. */
export function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

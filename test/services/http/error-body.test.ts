import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ErrorBody } from '../../../contracts/heartbeat.js';
import { OpenAIError } from '../../../contracts/inference.js';
import { errorBody, issuesOf, openAIErrorBody } from '../../../services/http/error-body.js';

describe('error bodies', () => {
  it('puts each zod issue at its dotted path, array indexes included', () => {
    const parsed = z.object({ items: z.array(z.object({ name: z.string() })) }).safeParse({ items: [{ name: 1 }] });
    if (parsed.success) throw new Error('the payload should have been refused');
    expect(issuesOf(parsed.error).map((issue) => issue.path)).toEqual(['items.0.name']);
  });

  it('leaves issues out unless there are some', () => {
    expect(errorBody('No.')).toEqual({ error: 'No.' });
    expect(ErrorBody.parse(errorBody('Bad.', [{ path: 'a', message: 'm' }])).issues).toHaveLength(1);
  });

  it("writes OpenAI's shape with the status as its code", () => {
    expect(OpenAIError.parse(openAIErrorBody(504, 'timeout', 'late'))).toEqual({
      error: { message: 'late', type: 'timeout', code: 504 },
    });
  });
});

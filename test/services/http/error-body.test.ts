import { describe, expect, it } from 'vitest';
import { ErrorBody } from '../../../contracts/heartbeat.js';
import { OpenAIError } from '../../../contracts/inference.js';
import { errorBody, openAIErrorBody } from '../../../services/http/error-body.js';

describe('error bodies', () => {
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

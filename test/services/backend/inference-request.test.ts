import { describe, expect, it } from 'vitest';
import { WORKER_PATHS } from '../../../contracts/paths.js';
import { parseInferenceRequest } from '../../../services/backend/inference-request.js';

const chat = (body: unknown) => parseInferenceRequest(WORKER_PATHS.chatCompletions, JSON.stringify(body));
const complete = (body: unknown) => parseInferenceRequest(WORKER_PATHS.completions, JSON.stringify(body));

function issuePaths(parsed: ReturnType<typeof parseInferenceRequest>): string[] {
  if (parsed.ok) throw new Error('expected a refusal');
  return (parsed.error.issues ?? []).map((issue) => issue.path);
}

describe('parseInferenceRequest', () => {
  it('accepts a chat request and keeps the fields it does not check', () => {
    const parsed = chat({ model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 0.5, seed: 7 });
    expect(parsed).toMatchObject({ ok: true, value: { path: '/v1/chat/completions', body: { temperature: 0.5 } } });
  });

  it('accepts text, text lists and token ids as a completion prompt', () => {
    for (const prompt of ['hi', ['a', 'b'], [1, 2, 3], [[1, 2], [3]]]) expect(complete({ prompt }).ok).toBe(true);
  });

  it('refuses text that is not JSON without issues', () => {
    const parsed = parseInferenceRequest(WORKER_PATHS.completions, '{"prompt":');
    expect(parsed).toEqual({ ok: false, error: { error: 'request body is not valid JSON' } });
  });

  it('names the path of each problem', () => {
    expect(issuePaths(chat([]))).toEqual(['']);
    expect(issuePaths(chat({ prompt: 'x' }))).toEqual(['messages']);
    expect(issuePaths(chat({ messages: [] }))).toEqual(['messages']);
    expect(issuePaths(chat({ messages: [{ content: 'x' }], stream: 'yes' }))).toEqual(['messages.0.role', 'stream']);
    expect(issuePaths(complete({ messages: [] }))).toEqual(['prompt']);
    expect(issuePaths(complete({ prompt: 'x', max_tokens: -1 }))).toEqual(['max_tokens']);
  });
});

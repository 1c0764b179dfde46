import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChatCompletion, ChatCompletionChunk, Completion } from '../../../contracts/inference.js';
import { WORKER_PATHS } from '../../../contracts/paths.js';
import type { InferenceCall, InferencePath } from '../../../services/backend/backend.js';
import { createDemoBackend, DEMO_LABEL, DEMO_MAX_TOKENS, demoReply } from '../../../services/backend/demo.js';

afterEach(() => {
  vi.useRealTimers();
});

function post(path: InferencePath, body: unknown, signal = new AbortController().signal): InferenceCall {
  return { path, body: JSON.stringify(body), header: () => undefined, signal };
}

/** The `data:` payloads of an SSE body, in order. */
function sseData(text: string): string[] {
  expect(text.endsWith('\n\n')).toBe(true);
  return text
    .split('\n\n')
    .filter((event) => event.length > 0)
    .map((event) => {
      expect(event.startsWith('data: ')).toBe(true);
      return event.slice('data: '.length);
    });
}

const backend = createDemoBackend({ model: 'demo-model', latencyMs: 0 });
const chat = (body: Record<string, unknown>) => backend.answer(post(WORKER_PATHS.chatCompletions, body));
const complete = (body: Record<string, unknown>) => backend.answer(post(WORKER_PATHS.completions, body));

describe('demo backend', () => {
  it('is always ready', async () => {
    expect(backend.kind).toBe('demo');
    expect(await backend.health()).toBe('ready');
  });

  it('answers a chat completion with a deterministic, labeled echo of the last user message', async () => {
    const body = {
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: 'an answer' },
        { role: 'user', content: 'Why   is the\nsky blue?' },
      ],
    };
    const first = ChatCompletion.parse(await (await chat(body)).json());
    const second = ChatCompletion.parse(await (await chat(body)).json());

    expect(first.model).toBe('demo-model');
    expect(first.choices[0]?.message.content).toBe(`${DEMO_LABEL} Why is the sky blue?`);
    expect(second.choices[0]?.message.content).toBe(first.choices[0]?.message.content);
    expect(first.choices[0]?.finish_reason).toBe('stop');
    expect(first.usage).toEqual({ prompt_tokens: 5, completion_tokens: 15, total_tokens: 20 });
    expect(first.id).not.toBe(second.id);
  });

  it('reads the text parts of a multi-part message', async () => {
    const body = { messages: [{ role: 'user', content: [{ type: 'text', text: 'describe' }, { type: 'image_url' }] }] };
    const answer = ChatCompletion.parse(await (await chat(body)).json());
    expect(answer.choices[0]?.message.content).toBe(`${DEMO_LABEL} describe`);
  });

  it('answers a text completion', async () => {
    const answer = Completion.parse(await (await complete({ prompt: 'Once upon a time' })).json());
    expect(answer.object).toBe('text_completion');
    expect(answer.choices[0]?.text).toBe(`${DEMO_LABEL} Once upon a time`);
    expect(answer.choices[0]?.finish_reason).toBe('stop');
  });

  it('says so when the prompt is empty', () => {
    expect(demoReply('   ', undefined).tokens.join(' ')).toBe(`${DEMO_LABEL} (empty prompt)`);
  });

  it('streams chat chunks whose deltas join to the non-streamed answer, then [DONE]', async () => {
    const messages = [{ role: 'user', content: 'stream me please' }];
    const whole = ChatCompletion.parse(await (await chat({ messages })).json());
    const response = await chat({ messages, stream: true });

    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const data = sseData(await response.text());
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((payload) => ChatCompletionChunk.parse(JSON.parse(payload)));
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.at(-1)?.choices[0]).toEqual({ index: 0, delta: {}, finish_reason: 'stop' });
    expect(chunks.slice(0, -1).every((chunk) => chunk.choices[0]?.finish_reason === null)).toBe(true);
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(whole.choices[0]?.message.content);
    // The role chunk, one chunk per token, the finish chunk.
    expect(chunks).toHaveLength(1 + whole.usage.completion_tokens + 1);
  });

  it('streams text completion chunks', async () => {
    const data = sseData(await (await complete({ prompt: 'abc def', stream: true })).text());
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((payload) => Completion.parse(JSON.parse(payload)));
    expect(chunks.map((chunk) => chunk.choices[0]?.text ?? '').join('')).toBe(`${DEMO_LABEL} abc def`);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('stops at max_tokens with finish_reason "length"', async () => {
    const answer = Completion.parse(await (await complete({ prompt: 'a b c', max_tokens: 3 })).json());
    expect(answer.choices[0]?.text).toBe(DEMO_LABEL.split(' ').slice(0, 3).join(' '));
    expect(answer.choices[0]?.finish_reason).toBe('length');
    expect(answer.usage?.completion_tokens).toBe(3);

    const data = sseData(await (await complete({ prompt: 'a b c', max_tokens: 3, stream: true })).text());
    const chunks = data.slice(0, -1).map((payload) => Completion.parse(JSON.parse(payload)));
    expect(chunks).toHaveLength(3 + 1);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('length');
  });

  it('takes max_completion_tokens for chat', async () => {
    const body = { messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 2, max_tokens: 50 };
    const answer = ChatCompletion.parse(await (await chat(body)).json());
    expect(answer.usage.completion_tokens).toBe(2);
  });

  it(`caps any max_tokens at ${DEMO_MAX_TOKENS}`, async () => {
    const prompt = Array.from({ length: 1_000 }, (_, i) => `w${i}`).join(' ');
    const answer = Completion.parse(await (await complete({ prompt, max_tokens: 100_000 })).json());
    expect(answer.usage?.completion_tokens).toBe(DEMO_MAX_TOKENS);
    expect(answer.choices[0]?.finish_reason).toBe('length');
  });

  it('refuses a body that is not a request for the route with 400', async () => {
    const response = await complete({ messages: [] });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ issues: [{ path: 'prompt' }] });
  });
});

describe('demo backend latency', () => {
  it('takes the per-token latency for each token of a non-streamed answer', async () => {
    vi.useFakeTimers();
    const slow = createDemoBackend({ model: 'm', latencyMs: 50 });
    const tokens = demoReply('one two', undefined).tokens.length;
    let settled = false;
    const pending = slow.answer(post(WORKER_PATHS.completions, { prompt: 'one two' })).then((response) => {
      settled = true;
      return response;
    });

    await vi.advanceTimersByTimeAsync(50 * tokens - 1);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toBe(true);
    expect((await pending).status).toBe(200);
  });

  it('spaces streamed tokens by the latency', async () => {
    vi.useFakeTimers();
    const slow = createDemoBackend({ model: 'm', latencyMs: 50 });
    const response = await slow.answer(post(WORKER_PATHS.completions, { prompt: 'one two', stream: true }));
    const reader = response.body?.getReader();
    if (!reader) throw new Error('no body');
    const read = reader.read();
    let first = false;
    void read.then(() => {
      first = true;
    });

    await vi.advanceTimersByTimeAsync(49);
    expect(first).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(first).toBe(true);
    const chunk = Completion.parse(JSON.parse(new TextDecoder().decode((await read).value).slice('data: '.length)));
    expect(chunk.choices[0]?.text).toBe(DEMO_LABEL.split(' ')[0]);
  });

  it('stops generating when the reader cancels', async () => {
    vi.useFakeTimers();
    const slow = createDemoBackend({ model: 'm', latencyMs: 50 });
    const response = await slow.answer(post(WORKER_PATHS.completions, { prompt: 'one two', stream: true }));
    const reader = response.body?.getReader();
    const read = reader?.read();
    await vi.advanceTimersByTimeAsync(50);
    await read;
    await reader?.cancel();
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('gives up a non-streamed answer when the client aborts', async () => {
    vi.useFakeTimers();
    const slow = createDemoBackend({ model: 'm', latencyMs: 50 });
    const client = new AbortController();
    const pending = slow.answer(post(WORKER_PATHS.completions, { prompt: 'one two' }, client.signal));
    await vi.advanceTimersByTimeAsync(10);
    client.abort();
    await expect(pending).rejects.toThrow();
    expect(vi.getTimerCount()).toBe(0);
  });
});

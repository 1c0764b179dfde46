import { randomUUID } from 'node:crypto';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  Completion,
  CompletionPrompt,
  FinishReason,
} from '../../contracts/inference.js';
import { WORKER_PATHS } from '../../contracts/paths.js';
import type { AnsweringBackend } from './backend.js';
import { parseInferenceRequest } from './inference-request.js';

/** The longest demo answer, whatever `max_tokens` asks for. */
export const DEMO_MAX_TOKENS = 256;

/** Every demo answer starts with this, so nobody mistakes it for a model's output. */
export const DEMO_LABEL = 'Apiary demo backend (not a language model) echoing your prompt:';

export interface DemoBackendOptions {
  /** The model name answers carry. */
  model: string;
  /** Delay before each token, as a model's generation time. */
  latencyMs: number;
  now?: () => number;
}

export interface DemoReply {
  /** Words of the answer, at most the token limit. */
  tokens: string[];
  finishReason: FinishReason;
  promptTokens: number;
}

/** The built-in backend: a deterministic, labeled echo of the prompt, so a cluster runs on any machine. */
export function createDemoBackend(options: DemoBackendOptions): AnsweringBackend {
  const now = options.now ?? Date.now;
  return {
    kind: 'demo',
    health: async () => 'ready',
    answer: async ({ path, body, signal }) => {
      const parsed = parseInferenceRequest(path, body);
      if (!parsed.ok) return Response.json(parsed.error, { status: 400 });
      const call = parsed.value;
      const chat = call.path === WORKER_PATHS.chatCompletions;
      const reply =
        call.path === WORKER_PATHS.chatCompletions
          ? demoReply(chatPrompt(call.body), call.body.max_completion_tokens ?? call.body.max_tokens)
          : demoReply(completionPrompt(call.body.prompt), call.body.max_tokens);
      const head = {
        id: `${chat ? 'chatcmpl' : 'cmpl'}-demo-${randomUUID()}`,
        created: Math.floor(now() / 1000),
        model: options.model,
      };
      if (call.body.stream === true) {
        const events = chat ? chatEvents : completionEvents;
        return eventStream((stop) => events(head, reply, options.latencyMs, stop), signal);
      }
      await sleep(options.latencyMs * reply.tokens.length, signal);
      return Response.json(chat ? chatCompletion(head, reply) : completion(head, reply));
    },
  };
}

/** The demo's answer to `prompt`: the label and the prompt's words, cut at `maxTokens` (capped). */
export function demoReply(prompt: string, maxTokens: number | null | undefined): DemoReply {
  const promptWords = words(prompt);
  const tokens = [...words(DEMO_LABEL), ...(promptWords.length > 0 ? promptWords : ['(empty prompt)'])];
  const limit = Math.min(maxTokens ?? DEMO_MAX_TOKENS, DEMO_MAX_TOKENS);
  return {
    tokens: tokens.slice(0, limit),
    finishReason: tokens.length > limit ? 'length' : 'stop',
    promptTokens: promptWords.length,
  };
}

/** The last user message (or the last message) as plain text. */
function chatPrompt(body: ChatCompletionRequest): string {
  const message = body.messages.findLast((m) => m.role === 'user') ?? body.messages.at(-1);
  const content = message?.content;
  if (typeof content === 'string') return content;
  return (content ?? []).map((part) => part.text ?? '').join(' ');
}

function completionPrompt(prompt: CompletionPrompt): string {
  if (typeof prompt === 'string') return prompt;
  return prompt
    .map((item) =>
      typeof item === 'string'
        ? item
        : [item]
            .flat()
            .map((id) => `#${id}`)
            .join(' '),
    )
    .join(' ');
}

function words(text: string): string[] {
  return text.split(/\s+/).filter((word) => word.length > 0);
}

/** Streamed pieces of the answer: joined, they are the non-streamed text. */
function deltas(reply: DemoReply): string[] {
  return reply.tokens.map((token, i) => (i === 0 ? token : ` ${token}`));
}

function usage(reply: DemoReply): ChatCompletion['usage'] {
  const completion = reply.tokens.length;
  return {
    prompt_tokens: reply.promptTokens,
    completion_tokens: completion,
    total_tokens: reply.promptTokens + completion,
  };
}

interface Head {
  id: string;
  created: number;
  model: string;
}

function chatCompletion(head: Head, reply: DemoReply): ChatCompletion {
  return {
    ...head,
    object: 'chat.completion',
    choices: [
      { index: 0, message: { role: 'assistant', content: reply.tokens.join(' ') }, finish_reason: reply.finishReason },
    ],
    usage: usage(reply),
  };
}

function completion(head: Head, reply: DemoReply): Completion {
  return {
    ...head,
    object: 'text_completion',
    choices: [{ index: 0, text: reply.tokens.join(' '), logprobs: null, finish_reason: reply.finishReason }],
    usage: usage(reply),
  };
}

async function* chatEvents(head: Head, reply: DemoReply, latencyMs: number, signal: AbortSignal) {
  const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], finish: FinishReason | null) =>
    sse({ ...head, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] });
  yield chunk({ role: 'assistant', content: '' }, null);
  for (const content of deltas(reply)) {
    await sleep(latencyMs, signal);
    yield chunk({ content }, null);
  }
  yield chunk({}, reply.finishReason);
  yield 'data: [DONE]\n\n';
}

async function* completionEvents(head: Head, reply: DemoReply, latencyMs: number, signal: AbortSignal) {
  const chunk = (text: string, finish: FinishReason | null) =>
    sse({ ...head, object: 'text_completion', choices: [{ index: 0, text, logprobs: null, finish_reason: finish }] });
  for (const text of deltas(reply)) {
    await sleep(latencyMs, signal);
    yield chunk(text, null);
  }
  yield chunk('', reply.finishReason);
  yield 'data: [DONE]\n\n';
}

function sse(payload: ChatCompletionChunk | Completion): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/** An SSE response fed by `events`; it stops producing when the reader cancels or the request is aborted. */
function eventStream(events: (signal: AbortSignal) => AsyncGenerator<string>, requestSignal: AbortSignal): Response {
  const cancelled = new AbortController();
  const iterator = events(AbortSignal.any([requestSignal, cancelled.signal]));
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    cancel(reason) {
      cancelled.abort(reason);
    },
  });
  return new Response(body, {
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' },
  });
}

/** Resolves after `ms`, rejects with the signal's reason when it aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

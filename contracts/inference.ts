import { z } from 'zod';

/**
 * The OpenAI-compatible inference payloads a worker serves (docs/protocol.md: Command line, worker). Requests are checked only as far
 * as the worker needs to route and answer them; unknown fields are kept so a proxied request reaches the upstream
 * server unchanged.
 */

const MaxTokens = z.number().int().nonnegative().nullable().optional();

export const ChatContentPart = z.looseObject({ type: z.string(), text: z.string().optional() });
export type ChatContentPart = z.infer<typeof ChatContentPart>;

export const ChatMessage = z.looseObject({
  role: z.string().min(1),
  content: z.union([z.string(), z.array(ChatContentPart), z.null()]).optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const ChatCompletionRequest = z.looseObject({
  model: z.string().optional(),
  messages: z.array(ChatMessage).min(1),
  stream: z.boolean().nullable().optional(),
  max_tokens: MaxTokens,
  max_completion_tokens: MaxTokens,
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

/** A prompt is text, a list of texts, or token ids (llama.cpp and vLLM accept all of them). */
export const CompletionPrompt = z.union([
  z.string(),
  z.array(z.union([z.string(), z.number().int(), z.array(z.number().int())])).min(1),
]);
export type CompletionPrompt = z.infer<typeof CompletionPrompt>;

export const CompletionRequest = z.looseObject({
  model: z.string().optional(),
  prompt: CompletionPrompt,
  stream: z.boolean().nullable().optional(),
  max_tokens: MaxTokens,
});
export type CompletionRequest = z.infer<typeof CompletionRequest>;

export const FinishReason = z.enum(['stop', 'length']);
export type FinishReason = z.infer<typeof FinishReason>;

export const Usage = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  total_tokens: z.number().int().nonnegative(),
});
export type Usage = z.infer<typeof Usage>;

const completionHead = {
  id: z.string().min(1),
  created: z.number().int().nonnegative(),
  model: z.string(),
};

export const ChatCompletion = z.object({
  ...completionHead,
  object: z.literal('chat.completion'),
  choices: z.array(
    z.object({
      index: z.number().int().nonnegative(),
      message: z.object({ role: z.literal('assistant'), content: z.string() }),
      finish_reason: FinishReason,
    }),
  ),
  usage: Usage,
});
export type ChatCompletion = z.infer<typeof ChatCompletion>;

export const ChatCompletionChunk = z.object({
  ...completionHead,
  object: z.literal('chat.completion.chunk'),
  choices: z.array(
    z.object({
      index: z.number().int().nonnegative(),
      delta: z.object({ role: z.literal('assistant').optional(), content: z.string().optional() }),
      finish_reason: FinishReason.nullable(),
    }),
  ),
});
export type ChatCompletionChunk = z.infer<typeof ChatCompletionChunk>;

const completionChoice = z.object({
  index: z.number().int().nonnegative(),
  text: z.string(),
  logprobs: z.null(),
  finish_reason: FinishReason.nullable(),
});

export const Completion = z.object({
  ...completionHead,
  object: z.literal('text_completion'),
  choices: z.array(completionChoice),
  usage: Usage.optional(),
});
export type Completion = z.infer<typeof Completion>;

export const ModelCard = z.object({
  id: z.string(),
  object: z.literal('model'),
  created: z.number().int().nonnegative(),
  owned_by: z.string(),
});
export type ModelCard = z.infer<typeof ModelCard>;

export const ModelList = z.object({ object: z.literal('list'), data: z.array(ModelCard) });
export type ModelList = z.infer<typeof ModelList>;

/** An error as OpenAI-compatible servers answer one: what a worker's own proxy errors look like too. */
export const OpenAIError = z.object({
  error: z.object({ message: z.string(), type: z.string(), code: z.union([z.number(), z.string()]).nullable() }),
});
export type OpenAIError = z.infer<typeof OpenAIError>;

import { z } from 'zod';
import { parseDuration } from '../services/duration.js';
import { WorkerType } from './capabilities.js';

/** How serving numbers are read: llama.cpp (`/slots`, `/metrics`), vLLM (`/metrics`) or any OpenAI-compatible server. */
export const EngineKind = z.enum(['llama.cpp', 'vllm', 'openai']);
export type EngineKind = z.infer<typeof EngineKind>;

/** The values a command or env entry may name as `{placeholder}`. */
export const ENGINE_PLACEHOLDERS = ['model_path', 'model_id', 'engine_port', 'device', 'device_index'] as const;
export type EnginePlaceholder = (typeof ENGINE_PLACEHOLDERS)[number];

const PLACEHOLDER = /\{([^{}]*)\}/g;

function isPlaceholder(name: string): name is EnginePlaceholder {
  const known: readonly string[] = ENGINE_PLACEHOLDERS;
  return known.includes(name);
}

/** Every `{name}` in `text` that is not a known placeholder. */
export function unknownPlaceholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((match) => match[1] ?? '').filter((name) => !isPlaceholder(name));
}

/** Fills every placeholder of `text` with its value. */
export function fillPlaceholders(text: string, values: Readonly<Record<EnginePlaceholder, string>>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => (isPlaceholder(name) ? values[name] : whole));
}

/**
 * The placeholders whose values would turn an argument of `command` into an option, as a model file named
 * `--foo.gguf` would through `{model_id}`: an argument that does not begin with `-` must not begin with one once
 * filled. `--served-model-name={model_id}` stays a value whatever the id, so it is never refused.
 */
export function optionLikePlaceholders(
  command: readonly string[],
  values: Readonly<Record<EnginePlaceholder, string>>,
): string[] {
  const names = command
    .slice(1)
    .filter((part) => !part.startsWith('-') && fillPlaceholders(part, values).startsWith('-'))
    .flatMap((part) => [...part.matchAll(PLACEHOLDER)].map((match) => match[1] ?? ''));
  return [...new Set(names)];
}

const Template = z
  .string()
  .min(1)
  .max(4096)
  .check((ctx) => {
    for (const name of unknownPlaceholders(ctx.value)) {
      ctx.issues.push({ code: 'custom', message: `unknown placeholder {${name}}`, input: ctx.value });
    }
  });

const DurationText = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = typeof value === 'number' ? value : parseDuration(value);
  if (ms === undefined || ms <= 0) {
    ctx.issues.push({ code: 'custom', message: 'not a duration (250ms, 30s, 10m)', input: value });
    return z.NEVER;
  }
  return ms;
});

/** What a worker needs to start, watch and read an engine; the hive hands it over in the worker's environment. */
export const EngineSpec = z.strictObject({
  engine: EngineKind,
  /** Program and arguments, run without a shell; `command[0]` is looked up on PATH. */
  command: z.array(Template).min(1).max(256),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not an environment variable name'), Template).default({}),
  health_path: z.string().startsWith('/').max(1024).default('/health'),
  /** Milliseconds once parsed; a manifest may write `10m`. */
  ready_timeout: DurationText.default(600_000),
});
export type EngineSpec = z.infer<typeof EngineSpec>;

/** A manifest that starts an engine: a worker type plus the engine's spec, nothing else (a typo is an error). */
export const EngineManifest = WorkerType.extend(EngineSpec.shape).strict();
export type EngineManifest = z.infer<typeof EngineManifest>;

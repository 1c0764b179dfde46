import os from 'node:os';
import path from 'node:path';
import { hasCredentials } from '../../contracts/common.js';
import { parseDuration } from '../duration.js';
import { issuesOf } from '../parse-json.js';
import { urlSpelling } from '../url-spelling.js';
import { OptionError } from './option-error.js';
import { DEFAULT_INSPECT_PORT, type OptionSpec, type OptionSpecs, type ParsedOptions } from './spec.js';

/**
 * The one command-line parser of the three roles: `--flag value`, `--flag=value`, `--no-flag` for booleans,
 * `APIARY_FLAG_NAME` from the environment (the flag wins), `--help`. Defaults are written as text and go through
 * the same parsing as user input.
 */

export interface ParseInput {
  argv: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
}

export type ParseResult<T extends OptionSpecs> = { help: true } | { help: false; options: ParsedOptions<T> };

/** Parses argv and env against `specs`; throws OptionError naming the flag on anything malformed. */
export function parseOptions<T extends OptionSpecs>(specs: T, input: ParseInput): ParseResult<T> {
  const given = new Map<string, string>();
  const argv = input.argv;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') return { help: true };
    if (!arg.startsWith('--')) {
      throw new OptionError(arg, 'not an option (options are --name value or --name=value)', JSON.stringify(arg));
    }
    const eq = arg.indexOf('=');
    let name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let value = eq === -1 ? undefined : arg.slice(eq + 1);
    let spec = specs[name];
    if (!spec && name.startsWith('no-') && specs[name.slice(3)]?.kind === 'boolean' && value === undefined) {
      name = name.slice(3);
      spec = specs[name];
      value = 'false';
    }
    if (!spec) throw new OptionError(name, 'unknown flag (see --help)');
    if (value === undefined) {
      if (spec.kind === 'boolean') value = 'true';
      else if (spec.kind === 'inspect') value = String(DEFAULT_INSPECT_PORT);
      else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) throw new OptionError(name, 'needs a value');
        value = next;
        i++;
      }
    }
    const earlier = spec.kind === 'urls' ? given.get(name) : undefined;
    given.set(name, earlier === undefined ? value : `${earlier},${value}`);
  }
  const env = input.env ?? {};
  const options: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const envValue = env[envName(name)];
    const text = given.get(name) ?? (envValue === '' ? undefined : envValue) ?? spec.default;
    if (text === undefined) {
      if (spec.required) throw new OptionError(name, 'is required');
      options[camelCase(name)] = spec.kind === 'boolean' ? false : spec.kind === 'urls' ? [] : undefined;
      continue;
    }
    options[camelCase(name)] = parseValue(name, spec, text);
  }
  // The loop above fills exactly the keys and value kinds that ParsedOptions<T> derives from the same specs.
  return { help: false, options: options as ParsedOptions<T> };
}

/** `--queen-url` ↔ `APIARY_QUEEN_URL`. */
export function envName(flag: string): string {
  return `APIARY_${flag.toUpperCase().replaceAll('-', '_')}`;
}

function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function parseValue(name: string, spec: OptionSpec, text: string): unknown {
  const fail = (what: string): never => {
    throw new OptionError(name, `${JSON.stringify(text)} is not ${what}`);
  };
  const inRange = (n: number, what: string): number => {
    if (spec.min !== undefined && n < spec.min) fail(`${what} of at least ${spec.min}`);
    if (spec.max !== undefined && n > spec.max) fail(`${what} of at most ${spec.max}`);
    return n;
  };
  switch (spec.kind) {
    case 'string':
      if (text === '') fail('a value');
      if (spec.values && !spec.values.includes(text)) fail(`one of ${spec.values.join(', ')}`);
      if (spec.schema) {
        const checked = spec.schema.safeParse(text);
        if (!checked.success)
          fail(
            `valid (${issuesOf(checked.error)
              .map(({ message }) => message)
              .join('; ')})`,
          );
      }
      return text;
    case 'path':
      if (text === '') fail('a path');
      return resolvePath(text);
    case 'state-dir':
      if (text === '') fail('a directory or none');
      return text === 'none' ? null : resolvePath(text);
    case 'url':
      // Apiary hands URLs on in comma-separated lists (a sender's queens): one holding a comma would split in two.
      if (text.includes(',')) fail('one http(s) URL, without a comma');
      return httpUrl(name, text, fail);
    case 'urls':
      // Repeated flags are joined by commas; an entry may itself be space-separated (the environment's form). A URL
      // given twice, in any of its spellings, counts once.
      return [
        ...new Set(
          text.split(',').flatMap((entry) => {
            const trimmed = entry.trim();
            if (trimmed === '') fail('a comma-separated list of http(s) URLs');
            return trimmed
              .split(/\s+/)
              .map((part) => httpUrl(name, part, () => fail('a comma-separated list of http(s) URLs')));
          }),
        ),
      ];
    case 'int':
    case 'port': {
      const n = Number(text);
      if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) fail('a whole number');
      if (spec.kind === 'port' && (n < 0 || n > 65535)) fail('a port (0–65535)');
      return inRange(n, 'a number');
    }
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) fail('a number');
      return inRange(n, 'a number');
    }
    case 'duration': {
      const ms = parseDuration(text);
      return ms === undefined ? fail('a duration (250ms, 30s, 10m or milliseconds)') : inRange(ms, 'a duration');
    }
    case 'durations': {
      const list = text.split(',').map((part) => parseDuration(part));
      if (list.length === 0 || list.some((ms) => ms === undefined)) fail('a list of durations (e.g. 0s,2s,4s)');
      return list.filter((ms): ms is number => ms !== undefined);
    }
    case 'boolean':
      if (TRUE.has(text.toLowerCase())) return true;
      if (FALSE.has(text.toLowerCase())) return false;
      return fail('true or false');
    case 'inspect': {
      if (FALSE.has(text.toLowerCase())) return undefined;
      if (TRUE.has(text.toLowerCase()) && text !== '0') return DEFAULT_INSPECT_PORT;
      const n = Number(text);
      if (!/^\d+$/.test(text) || n < 1 || n > 65535) fail('a port');
      return n;
    }
  }
}

function resolvePath(text: string): string {
  return path.resolve(text.startsWith('~/') || text === '~' ? path.join(os.homedir(), text.slice(1)) : text);
}

function httpUrl(name: string, text: string, fail: (what: string) => never): string {
  if (!URL.canParse(text)) fail('a URL');
  const url = new URL(text);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail('an http(s) URL');
  // The value is not echoed: it holds a secret.
  if (hasCredentials(text)) throw new OptionError(name, 'a URL must not carry a user or password');
  return urlSpelling(text);
}

import os from 'node:os';
import path from 'node:path';
import { hasCredentials, ID_MAX_LENGTH, LIMITS } from '../contracts/common.js';
import { parseDuration } from './duration.js';
import { LOG_LEVELS } from './logger.js';

/**
 * The one command-line parser of the three roles (docs/protocol.md: Command line): `--flag value`, `--flag=value`,
 * `--no-flag` for booleans, `APIARY_FLAG_NAME` from the environment (the flag wins), `--help`.
 * Defaults are written as text and go through the same parsing as user input.
 */

export const DEFAULT_INSPECT_PORT = 5678;

interface KindTypes {
  string: string;
  path: string;
  url: string;
  /** Repeatable (`--flag URL` again adds one), and each value a comma- or space-separated list, in order. */
  urls: string[];
  int: number;
  port: number;
  number: number;
  duration: number;
  durations: number[];
  boolean: boolean;
  /** A directory, or null for `none`: keep nothing. */
  'state-dir': string | null;
  /** `--inspect` alone = the default port; `--inspect=PORT` a given one. */
  inspect: number;
}
export type OptionKind = keyof KindTypes;

export interface OptionSpec {
  readonly kind: OptionKind;
  readonly description: string;
  /** Textual default, parsed like user input. */
  readonly default?: string;
  readonly required?: boolean;
  /** Allowed values, for a `string` option that is an enum. */
  readonly values?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** Longest accepted text, for a `string` option (ids the contract bounds). */
  readonly maxLength?: number;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;
type ValueOf<S extends OptionSpec> = S extends { values: readonly (infer V)[] } ? V : KindTypes[S['kind']];
type Settled<S extends OptionSpec> = S extends
  | { default: string }
  | { required: true }
  | { kind: 'boolean' }
  | { kind: 'urls' }
  ? ValueOf<S>
  : ValueOf<S> | undefined;

/** The typed result of parsing `T`: kebab-case flags become camelCase keys. */
export type ParsedOptions<T extends OptionSpecs> = { -readonly [K in keyof T & string as CamelCase<K>]: Settled<T[K]> };

/** A bad flag or value; `flag` names it for the one-line message (`label` when it is not a flag at all). */
export class OptionError extends Error {
  constructor(
    readonly flag: string,
    message: string,
    label = `--${flag}`,
  ) {
    super(`${label}: ${message}`);
    this.name = 'OptionError';
  }
}

/** `$XDG_STATE_HOME/apiary/<role>`, else `~/.local/state/apiary/<role>`, read when the process starts. */
export function defaultStateDir(role: 'queen' | 'hive', env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME ? env.XDG_STATE_HOME : path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'apiary', role);
}

export const commonOptions = {
  host: { kind: 'string', default: '127.0.0.1', description: 'address to bind' },
  token: {
    kind: 'string',
    description: 'shared cluster secret: required on every request, sent on every request made',
  },
  insecure: { kind: 'boolean', description: 'allow binding a non-loopback host without --token' },
  inspect: {
    kind: 'inspect',
    description: `show every actor in the Stately Inspector (port ${DEFAULT_INSPECT_PORT} unless =PORT)`,
  },
  'log-level': { kind: 'string', default: 'info', values: LOG_LEVELS, description: 'error | warn | info | debug' },
} as const satisfies OptionSpecs;

/** Options of every heartbeat sender (hive and worker). */
export const senderOptions = {
  'heartbeat-interval': { kind: 'duration', default: '30s', min: 1, description: 'time between heartbeats' },
  backoff: { kind: 'durations', default: '0s,2s,4s,8s,16s', description: 'delay before each discovery attempt' },
  'max-failures': { kind: 'int', default: '5', min: 1, description: 'consecutive failures before rediscovery' },
  'request-timeout': { kind: 'duration', default: '5s', min: 1, description: 'timeout of one heartbeat request' },
  jitter: {
    kind: 'number',
    default: '0.1',
    min: 0,
    max: 1,
    description: 'random spread of every delay, as a fraction',
  },
} as const satisfies OptionSpecs;

export const queenOptions = {
  ...commonOptions,
  port: { kind: 'port', default: '7833', description: 'port to listen on' },
  'advertise-url': { kind: 'url', description: 'queen address sent to hives (default http://<host>:<port>)' },
  'hives-config': {
    kind: 'path',
    default: '~/.ssh/config',
    description: 'SSH config whose Host entries are the hives',
  },
  discovery: {
    kind: 'boolean',
    default: 'true',
    description: 'pull discovery of the hives config (--no-discovery turns it off)',
  },
  'hive-port': { kind: 'port', default: '7835', description: 'hive HTTP port of discovered hosts' },
  'discovery-delay': { kind: 'duration', default: '5s', description: 'wait after start before discovery' },
  'discovery-timeout': { kind: 'duration', default: '10s', min: 1, description: 'timeout of each discovery request' },
  'heartbeat-interval': {
    kind: 'duration',
    default: '30s',
    min: 1,
    description: 'interval hives and workers are expected to use',
  },
  'suspect-after': { kind: 'duration', default: '45s', min: 1, description: 'silence after which an entry is suspect' },
  'offline-after': { kind: 'duration', default: '90s', min: 1, description: 'silence after which an entry is offline' },
  'forget-after': {
    kind: 'duration',
    default: '10m',
    min: 1,
    description: 'silence after which an entry is forgotten',
  },
  'stream-interval': {
    kind: 'duration',
    default: '2.5s',
    min: 1,
    description: "period of the queen's own stream event",
  },
  'state-dir': {
    kind: 'state-dir',
    default: defaultStateDir('queen'),
    description: 'directory of the queen database (none = keep nothing)',
  },
  'history-retention': { kind: 'duration', default: '7d', min: 1, description: 'how long the history is kept' },
  'discovery-interval': {
    kind: 'duration',
    default: '60s',
    description: 'probe expected hives that are not online this often (0 = only at start)',
  },
  webhook: { kind: 'urls', description: 'POST each problem here when it opens and resolves (repeatable)' },
  'webhook-debounce': {
    kind: 'duration',
    default: '30s',
    description: 'a problem that opens and resolves within this long sends nothing',
  },
  'max-hives': {
    kind: 'int',
    default: '10000',
    min: 1,
    description: 'most hives the queen holds: a heartbeat that would register one more gets 503',
  },
  'max-workers': {
    kind: 'int',
    default: '100000',
    min: 1,
    description: 'most workers the queen holds: a heartbeat that would register one more gets 503',
  },
  'max-capability-bytes': {
    kind: 'int',
    default: String(LIMITS.maxCapabilityBytes),
    min: 1,
    description: 'most bytes of capabilities (their JSON) the queen holds over all hives: one more gets 503',
  },
  'idle-timeout': {
    kind: 'duration',
    default: '2m',
    min: 1,
    description: 'an idle keep-alive connection is closed after this long (the stream is exempt)',
  },
  'max-connections': {
    kind: 'int',
    default: '10000',
    min: 1,
    description: 'connections open at once, kept below the file-descriptor limit; more are closed at once',
  },
  etcd: { kind: 'urls', description: 'etcd client URLs: elect a leader among several queens (high availability)' },
  'etcd-prefix': { kind: 'string', default: '/apiary', description: "prefix of this cluster's keys in etcd" },
  'leader-ttl': {
    kind: 'duration',
    default: '5s',
    min: 1_000,
    description: "lease of the leader in etcd, in whole seconds: a dead leader's successor comes after it",
  },
} as const satisfies OptionSpecs;

export const hiveOptions = {
  ...commonOptions,
  ...senderOptions,
  port: { kind: 'port', default: '7835', description: 'port to listen on' },
  'hive-id': { kind: 'string', default: os.hostname(), maxLength: ID_MAX_LENGTH, description: 'this hive id' },
  'advertise-url': { kind: 'url', description: 'this hive address as the queen should use it' },
  'queen-url': {
    kind: 'urls',
    description: 'queens to push to at start, comma-separated (else wait to be discovered)',
  },
  'models-dir': {
    kind: 'path',
    default: '~/.cache/apiary/models',
    description: 'model files found here are the models',
  },
  'workers-dir': { kind: 'path', default: '~/.config/apiary/workers', description: 'worker-type manifests (*.json)' },
  settle: {
    kind: 'duration',
    default: '2s',
    description: 'a model or manifest file counts once it has not changed for this long',
  },
  'probe-interval': {
    kind: 'duration',
    default: '60s',
    description: 'slow re-probe of a known queen while waiting (0 = off)',
  },
  'max-workers': {
    kind: 'int',
    default: '16',
    min: 1,
    description: 'most workers this hive runs at once (429 beyond)',
  },
  'state-dir': {
    kind: 'state-dir',
    default: defaultStateDir('hive'),
    description: "this hive's own state: its identity and the workers it runs (none = keep nothing)",
  },
} as const satisfies OptionSpecs;

export const workerOptions = {
  ...commonOptions,
  ...senderOptions,
  port: { kind: 'port', required: true, description: 'port to listen on' },
  'queen-url': { kind: 'urls', required: true, description: 'queens to heartbeat to, comma-separated' },
  'worker-id': { kind: 'string', maxLength: ID_MAX_LENGTH, description: 'this worker id (default: <hive-id>-<port>)' },
  'hive-id': {
    kind: 'string',
    default: os.hostname(),
    maxLength: ID_MAX_LENGTH,
    description: 'hive this worker belongs to',
  },
  model: { kind: 'string', default: 'demo', description: 'model served' },
  device: { kind: 'string', default: 'CPU-0', description: 'device used, e.g. GPU-0 or CPU-0' },
  upstream: { kind: 'url', description: 'OpenAI-compatible server to front (else the built-in demo backend)' },
  'demo-latency': { kind: 'duration', default: '50ms', description: 'per-token delay of the demo backend' },
  engine: {
    kind: 'string',
    description: 'engine to start, supervise and front, as JSON (the hive sets APIARY_ENGINE from a manifest)',
  },
  'model-path': { kind: 'path', description: "the model's file, the engine command's {model_path}" },
  'upstream-timeout': {
    kind: 'duration',
    default: '10m',
    min: 1,
    description: 'bound on one request to the upstream or engine (504 past it)',
  },
  'upstream-first-byte-timeout': {
    kind: 'duration',
    default: '60s',
    min: 1,
    description: 'bound on the wait for the upstream answer to start (504 past it)',
  },
} as const satisfies OptionSpecs;

/** `npm start`: a whole cluster on this machine, for trying Apiary out. */
export const clusterOptions = {
  ...commonOptions,
  'log-level': { kind: 'string', default: 'warn', values: LOG_LEVELS, description: 'log level of every role' },
  port: { kind: 'port', default: '7833', description: "the queen's port (hives and workers take free ports)" },
  hives: { kind: 'int', default: '1', min: 1, max: 64, description: 'hives to start' },
  workers: { kind: 'int', default: '1', min: 0, max: 16, description: 'workers each hive spawns' },
  'heartbeat-interval': {
    kind: 'duration',
    default: '2s',
    min: 1,
    description: 'heartbeat interval of every sender; suspect after 2.5×, offline after 5×',
  },
} as const satisfies OptionSpecs;

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
      if (spec.maxLength !== undefined && text.length > spec.maxLength) fail(`at most ${spec.maxLength} characters`);
      return text;
    case 'path':
      if (text === '') fail('a path');
      return resolvePath(text);
    case 'state-dir':
      if (text === '') fail('a directory or none');
      return text === 'none' ? null : resolvePath(text);
    case 'url':
      return httpUrl(name, text, fail);
    case 'urls':
      // Repeated flags are joined by commas; an entry may itself be space-separated (the environment's form).
      return text.split(',').flatMap((entry) => {
        const trimmed = entry.trim();
        if (trimmed === '') fail('a comma-separated list of http(s) URLs');
        return trimmed
          .split(/\s+/)
          .map((part) => httpUrl(name, part, () => fail('a comma-separated list of http(s) URLs')));
      });
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
  return url.toString().replace(/\/$/, '');
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/i;

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host);
}

/** The protocol's refusal to expose a role on the network without a token; undefined when allowed. */
export function bindingError(options: {
  host: string;
  token?: string | undefined;
  insecure: boolean;
}): OptionError | undefined {
  if (isLoopbackHost(options.host) || options.token || options.insecure) return undefined;
  return new OptionError(
    'host',
    `binding ${options.host} without --token is refused (give --token, or --insecure to accept the risk)`,
  );
}

/** The --help text, generated from the specs. */
export function usage<T extends OptionSpecs>(command: string, summary: string, specs: T): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const flag =
      spec.kind === 'boolean' ? `--${name}` : spec.kind === 'inspect' ? `--${name}[=PORT]` : `--${name} <${spec.kind}>`;
    const extra = spec.required ? ' (required)' : spec.default !== undefined ? ` (default ${spec.default})` : '';
    return `  ${flag.padEnd(32)} ${spec.description}${extra}\n  ${''.padEnd(32)} env ${envName(name)}`;
  });
  return `Usage: ${command} [options]\n\n${summary}\n\nOptions:\n${rows.join('\n')}\n  --help                           show this help\n`;
}

export interface CliContext {
  command: string;
  summary: string;
  argv?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
  exit?: (code: number) => never;
  out?: (text: string) => void;
  err?: (text: string) => void;
}

/** Parses a role's command line: prints --help and exits 0, or a one-line error naming the flag and exits 2. */
export function parseCommandLine<T extends OptionSpecs>(specs: T, cli: CliContext): ParsedOptions<T> {
  const exit = cli.exit ?? ((code: number) => process.exit(code));
  const out = cli.out ?? ((text: string) => process.stdout.write(text));
  const err = cli.err ?? ((text: string) => process.stderr.write(text));
  try {
    const result = parseOptions(specs, { argv: cli.argv ?? process.argv.slice(2), env: cli.env ?? process.env });
    if (result.help) {
      out(usage(cli.command, cli.summary, specs));
      return exit(0);
    }
    const options = result.options;
    const token = typeof options.token === 'string' ? options.token : undefined;
    const refusal = bindingError({ host: String(options.host), token, insecure: options.insecure === true });
    if (refusal) throw refusal;
    return options;
  } catch (error) {
    if (!(error instanceof OptionError)) throw error;
    err(`${cli.command}: ${error.message}\n`);
    return exit(2);
  }
}

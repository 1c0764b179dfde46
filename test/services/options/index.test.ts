import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bindingError,
  DEFAULT_INSPECT_PORT,
  envName,
  hiveOptions,
  isLoopbackHost,
  OptionError,
  type OptionSpecs,
  parseCommandLine,
  parseOptions,
  queenOptions,
  usage,
  workerOptions,
} from '../../../services/options/index.js';

type Env = Record<string, string | undefined>;

/** Parses or fails the test: the options of a successful, non-help parse. */
function parse<T extends OptionSpecs>(specs: T, argv: string[], env: Env = {}) {
  const result = parseOptions(specs, { argv, env });
  if (result.help) throw new Error('unexpected --help');
  return result.options;
}

/** The OptionError a parse throws, or undefined. */
function optionError(specs: OptionSpecs, argv: string[], env: Env = {}): OptionError | undefined {
  try {
    parseOptions(specs, { argv, env });
    return undefined;
  } catch (error) {
    if (error instanceof OptionError) return error;
    throw error;
  }
}

const WORKER_ARGS = ['--port', '9301', '--queen-url', 'http://127.0.0.1:7833'];

describe('durations', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1500', 1_500],
    ['2.5s', 2_500],
    ['0.5m', 30_000],
    [' 45s ', 45_000],
  ])('--heartbeat-interval %s is %d ms', (text, ms) => {
    expect(parse(hiveOptions, ['--heartbeat-interval', text]).heartbeatInterval).toBe(ms);
  });

  it.each(['', 'soon', '30 s', '30S', '-5s', '1e3', '10w', 's', '2.5.1s', '0x10'])(
    'refuses --heartbeat-interval %j, naming the flag',
    (text) => {
      const error = optionError(hiveOptions, [`--heartbeat-interval=${text}`]);
      expect(error?.flag).toBe('heartbeat-interval');
      expect(error?.message).toMatch(/^--heartbeat-interval: /);
    },
  );

  it('refuses a zero interval where one is needed, and allows 0 where it means off', () => {
    expect(optionError(hiveOptions, ['--heartbeat-interval', '0s'])?.flag).toBe('heartbeat-interval');
    expect(optionError(hiveOptions, ['--request-timeout', '0.2ms'])?.flag).toBe('request-timeout');
    expect(parse(hiveOptions, ['--probe-interval', '0']).probeInterval).toBe(0);
  });

  it('parses the backoff list, and refuses a list with a bad entry', () => {
    expect(parse(hiveOptions, []).backoff).toEqual([0, 2_000, 4_000, 8_000, 16_000]);
    expect(parse(hiveOptions, ['--backoff', '0s, 500ms,1s']).backoff).toEqual([0, 500, 1_000]);
    expect(optionError(hiveOptions, ['--backoff', '0s,,1s'])?.flag).toBe('backoff');
    expect(optionError(hiveOptions, ['--backoff', ''])?.flag).toBe('backoff');
  });
});

describe('flags and values', () => {
  it('reads --flag value and --flag=value alike', () => {
    const spaced = parse(queenOptions, ['--port', '9000', '--suspect-after', '5s', '--host', '::1']);
    const joined = parse(queenOptions, ['--port=9000', '--suspect-after=5s', '--host=::1']);
    expect(joined).toEqual(spaced);
    expect(spaced).toMatchObject({ port: 9000, suspectAfter: 5_000, host: '::1' });
  });

  it('keeps an = inside a value', () => {
    expect(parse(queenOptions, ['--token=a=b==']).token).toBe('a=b==');
  });

  it('gives every default of the protocol, typed and in camelCase', () => {
    expect(parse(queenOptions, [])).toMatchObject({
      host: '127.0.0.1',
      port: 7833,
      token: undefined,
      insecure: false,
      inspect: undefined,
      logLevel: 'info',
      hivesConfig: path.join(os.homedir(), '.ssh/config'),
      discovery: true,
      hivePort: 7835,
      discoveryDelay: 5_000,
      discoveryTimeout: 10_000,
      heartbeatInterval: 30_000,
      suspectAfter: 45_000,
      offlineAfter: 90_000,
      forgetAfter: 600_000,
      streamInterval: 2_500,
      etcd: [],
      webhook: [],
      etcdPrefix: '/apiary',
      leaderTtl: 5_000,
    });
    expect(parse(hiveOptions, [])).toMatchObject({
      port: 7835,
      hiveId: os.hostname(),
      queenUrl: [],
      maxFailures: 5,
      requestTimeout: 5_000,
      jitter: 0.1,
      probeInterval: 60_000,
      modelsDir: path.join(os.homedir(), '.cache/apiary/models'),
    });
  });

  it('normalises URLs and expands ~ in paths', () => {
    const hive = parse(hiveOptions, ['--queen-url', 'http://queen:7833/', '--models-dir', '~/models']);
    expect(hive.queenUrl).toEqual(['http://queen:7833']);
    expect(hive.modelsDir).toBe(path.join(os.homedir(), 'models'));
  });

  it('reads a comma-separated list of URLs in order, and refuses a list with a bad entry', () => {
    const argv = ['--queen-url', 'http://q1:7833/, http://q2:7833,https://q3'];
    expect(parse(hiveOptions, argv).queenUrl).toEqual(['http://q1:7833', 'http://q2:7833', 'https://q3']);
    expect(parse(queenOptions, ['--etcd', 'http://e1:2379,http://e2:2379']).etcd).toEqual([
      'http://e1:2379',
      'http://e2:2379',
    ]);
    for (const bad of ['http://q1:7833,', 'http://q1:7833,ftp://q2', 'q1:7833']) {
      const error = optionError(workerOptions, ['--port', '0', '--queen-url', bad]);
      expect(error?.flag, bad).toBe('queen-url');
      expect(error?.message, bad).toContain('list of http(s) URLs');
    }
    expect(optionError(queenOptions, ['--leader-ttl', '500ms'])?.flag).toBe('leader-ttl');
  });

  it('counts a URL given twice once, in whatever spelling or flag', () => {
    const argv = ['--queen-url', 'http://q1:7833,http://Q1:7833/', '--queen-url', 'http://q2:7833,http://q1:7833'];
    expect(parse(hiveOptions, argv).queenUrl).toEqual(['http://q1:7833', 'http://q2:7833']);
  });

  it.each([
    [['--bogus'], 'bogus', /unknown flag/],
    [['--bogus=1'], 'bogus', /unknown flag/],
    [['--no-port'], 'no-port', /unknown flag/],
    [['--port'], 'port', /needs a value/],
    [['--token', '--insecure'], 'token', /needs a value/],
    [['--port', 'http'], 'port', /not a whole number/],
    [['--port', '65536'], 'port', /port/],
    [['--port', '-1'], 'port', /whole number/],
    [['--hive-port', '80.5'], 'hive-port', /whole number/],
    [['--advertise-url', 'ftp://queen'], 'advertise-url', /http\(s\)/],
    [['--advertise-url', 'queen:7833'], 'advertise-url', /URL/],
    [['--advertise-url', 'http://queen-1:7833,http://queen-2:7833'], 'advertise-url', /without a comma/],
    [['--log-level', 'verbose'], 'log-level', /one of error, warn, info, debug/],
    [['--host', ''], 'host', /value/],
    [['--insecure=maybe'], 'insecure', /true or false/],
    [['--inspect=70000'], 'inspect', /port/],
    [['--inspect=web'], 'inspect', /port/],
  ])('refuses %j with an OptionError naming --%s', (argv, flag, pattern) => {
    const error = optionError(queenOptions, argv);
    expect(error).toBeInstanceOf(OptionError);
    expect(error?.flag).toBe(flag);
    expect(error?.message.startsWith(`--${flag}: `)).toBe(true);
    expect(error?.message).toMatch(pattern);
  });

  it.each([
    [['serve'], '"serve"'],
    [['-x'], '"-x"'],
    [['--insecure', 'yes'], '"yes"'],
    [['--inspect', '9000'], '"9000"'],
  ])('refuses the stray argument in %j, quoting it as given', (argv, quoted) => {
    const error = optionError(queenOptions, argv);
    expect(error?.message.startsWith(`${quoted}: not an option`)).toBe(true);
  });

  it('checks hive sender bounds', () => {
    expect(optionError(hiveOptions, ['--jitter', '1.5'])?.flag).toBe('jitter');
    expect(optionError(hiveOptions, ['--jitter', '-0.1'])?.flag).toBe('jitter');
    expect(optionError(hiveOptions, ['--max-failures', '0'])?.flag).toBe('max-failures');
    expect(parse(hiveOptions, ['--jitter', '0', '--max-failures', '3'])).toMatchObject({ jitter: 0, maxFailures: 3 });
  });

  it('requires the worker flags', () => {
    expect(optionError(workerOptions, [])?.flag).toBe('port');
    expect(optionError(workerOptions, ['--port', '9301'])?.flag).toBe('queen-url');
    expect(optionError(workerOptions, ['--queen-url', 'http://q:7833'])?.message).toBe('--port: is required');
    expect(parse(workerOptions, WORKER_ARGS)).toMatchObject({
      port: 9301,
      queenUrl: ['http://127.0.0.1:7833'],
      model: 'demo',
      device: 'CPU-0',
      workerId: undefined,
      upstream: undefined,
    });
  });
});

describe('environment fallback', () => {
  it('maps each flag to APIARY_ + upper snake case', () => {
    expect(envName('queen-url')).toBe('APIARY_QUEEN_URL');
    expect(envName('log-level')).toBe('APIARY_LOG_LEVEL');
    expect(envName('port')).toBe('APIARY_PORT');
  });

  it('reads APIARY_* when the flag is absent', () => {
    const env = { APIARY_QUEEN_URL: 'http://queen:7833', APIARY_HEARTBEAT_INTERVAL: '250ms', APIARY_JITTER: '0' };
    expect(parse(hiveOptions, [], env)).toMatchObject({
      queenUrl: ['http://queen:7833'],
      heartbeatInterval: 250,
      jitter: 0,
    });
    expect(parse(workerOptions, [], { APIARY_PORT: '9301', APIARY_QUEEN_URL: 'http://q:7833' }).port).toBe(9301);
  });

  it('lets the flag win over the environment', () => {
    const env = { APIARY_PORT: '9000', APIARY_LOG_LEVEL: 'debug' };
    expect(parse(queenOptions, ['--port', '9001'], env)).toMatchObject({ port: 9001, logLevel: 'debug' });
  });

  it('ignores an empty variable, and names the flag of a bad one', () => {
    expect(parse(queenOptions, [], { APIARY_PORT: '' }).port).toBe(7833);
    const error = optionError(queenOptions, [], { APIARY_SUSPECT_AFTER: 'a while' });
    expect(error?.flag).toBe('suspect-after');
  });

  it('ignores variables that are not options', () => {
    expect(parse(queenOptions, [], { APIARY_BOGUS: '1', PORT: '1' }).port).toBe(7833);
  });
});

describe('booleans', () => {
  it.each<[string[], Env, boolean]>([
    [[], {}, true],
    [['--no-discovery'], {}, false],
    [['--discovery=false'], {}, false],
    [['--discovery=no'], {}, false],
    [['--discovery'], { APIARY_DISCOVERY: 'false' }, true],
    [[], { APIARY_DISCOVERY: 'off' }, false],
    [[], { APIARY_DISCOVERY: '0' }, false],
  ])('discovery with %j and %j is %s', (argv, env, expected) => {
    expect(parse(queenOptions, argv, env).discovery).toBe(expected);
  });

  it('reads --insecure as a switch, also from the environment', () => {
    expect(parse(queenOptions, []).insecure).toBe(false);
    expect(parse(queenOptions, ['--insecure']).insecure).toBe(true);
    expect(parse(queenOptions, [], { APIARY_INSECURE: 'true' }).insecure).toBe(true);
    expect(parse(queenOptions, ['--no-insecure'], { APIARY_INSECURE: '1' }).insecure).toBe(false);
  });
});

describe('--inspect', () => {
  it.each<[string[], Env, number | undefined]>([
    [[], {}, undefined],
    [['--inspect'], {}, DEFAULT_INSPECT_PORT],
    [['--inspect=9000'], {}, 9000],
    [['--inspect=0'], {}, undefined],
    [['--inspect=false'], {}, undefined],
    [[], { APIARY_INSPECT: '9100' }, 9100],
    [[], { APIARY_INSPECT: 'true' }, DEFAULT_INSPECT_PORT],
    [['--inspect=9000'], { APIARY_INSPECT: '9100' }, 9000],
  ])('%j with %j inspects on %s', (argv, env, port) => {
    expect(parse(workerOptions, [...WORKER_ARGS, ...argv], env).inspect).toBe(port);
  });

  it('defaults to port 5678', () => {
    expect(DEFAULT_INSPECT_PORT).toBe(5678);
  });
});

describe('the non-loopback refusal', () => {
  it.each(['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]'])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each(['0.0.0.0', '::', '192.168.1.10', 'queen.lab', '128.0.0.1', 'localhost.evil.com'])(
    '%s is not loopback',
    (host) => {
      expect(isLoopbackHost(host)).toBe(false);
    },
  );

  it('refuses a non-loopback host without a token, unless --insecure', () => {
    expect(bindingError({ host: '0.0.0.0', insecure: false })?.flag).toBe('host');
    expect(bindingError({ host: '0.0.0.0', token: 's3cret', insecure: false })).toBeUndefined();
    expect(bindingError({ host: '0.0.0.0', insecure: true })).toBeUndefined();
    expect(bindingError({ host: '127.0.0.1', insecure: false })).toBeUndefined();
  });
});

describe('parseCommandLine', () => {
  class Exited extends Error {
    constructor(readonly code: number) {
      super(`exit ${code}`);
    }
  }

  /** Runs parseCommandLine with captured output; `code` is undefined when it returned options. */
  function run<T extends typeof queenOptions | typeof hiveOptions | typeof workerOptions>(
    specs: T,
    argv: string[],
    env: Env = {},
  ) {
    const out: string[] = [];
    const err: string[] = [];
    try {
      const options = parseCommandLine(specs, {
        command: 'apiary-test',
        summary: 'A role under test.',
        argv,
        env,
        exit: (code) => {
          throw new Exited(code);
        },
        out: (text) => out.push(text),
        err: (text) => err.push(text),
      });
      return { code: undefined, options, out: out.join(''), err: err.join('') };
    } catch (error) {
      if (!(error instanceof Exited)) throw error;
      return { code: error.code, options: undefined, out: out.join(''), err: err.join('') };
    }
  }

  it('returns the options when all is well, printing nothing', () => {
    const result = run(hiveOptions, ['--queen-url', 'http://q:7833']);
    expect(result.code).toBeUndefined();
    expect(result.options?.queenUrl).toEqual(['http://q:7833']);
    expect(result.out + result.err).toBe('');
  });

  it.each([
    [['--bogus'], '--bogus'],
    [['--port', 'x'], '--port'],
    [['--heartbeat-interval', 'soon'], '--heartbeat-interval'],
    [['serve'], '"serve"'],
  ])('exits 2 on %j with one line naming %s', (argv, named) => {
    const result = run(hiveOptions, argv);
    expect(result.code).toBe(2);
    expect(result.out).toBe('');
    expect(result.err).toMatch(/^apiary-test: [^\n]+\n$/);
    expect(result.err).toContain(named);
  });

  it('exits 2 naming a missing required worker flag', () => {
    const result = run(workerOptions, ['--port', '9301']);
    expect(result.code).toBe(2);
    expect(result.err).toBe('apiary-test: --queen-url: is required\n');
  });

  it('prints the usage and exits 0 on --help, even with other flags', () => {
    for (const argv of [['--help'], ['-h'], ['--port', '1', '--help']]) {
      const result = run(queenOptions, argv);
      expect(result.code).toBe(0);
      expect(result.err).toBe('');
      expect(result.out).toContain('Usage: apiary-test [options]');
      expect(result.out).toContain('A role under test.');
      for (const flag of Object.keys(queenOptions)) {
        expect(result.out).toContain(`--${flag}`);
        expect(result.out).toContain(envName(flag));
      }
    }
  });

  it('refuses to bind a non-loopback host without a token: exit 2 naming --host', () => {
    const result = run(queenOptions, ['--host', '0.0.0.0']);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/^apiary-test: --host: binding 0\.0\.0\.0 without --token is refused[^\n]*\n$/);
  });

  it.each<[string[], Env]>([
    [['--host', '0.0.0.0', '--token', 's3cret'], {}],
    [['--host', '0.0.0.0', '--insecure'], {}],
    [['--host', '0.0.0.0'], { APIARY_TOKEN: 's3cret' }],
    [[], { APIARY_HOST: '0.0.0.0', APIARY_INSECURE: 'true' }],
    [['--host', 'localhost'], {}],
  ])('allows %j with %j', (argv, env) => {
    const result = run(queenOptions, argv, env);
    expect(result.code).toBeUndefined();
    expect(result.err).toBe('');
  });

  it('never prints the token', () => {
    const result = run(queenOptions, ['--token', 's3cret', '--port', 'x']);
    expect(result.code).toBe(2);
    expect(result.err).not.toContain('s3cret');
  });
});

describe('usage', () => {
  it('shows defaults, required flags and the env names', () => {
    const text = usage('apiary-worker', 'One inference process.', workerOptions);
    expect(text).toMatch(/--port <port>\s+port to listen on \(required\)/);
    expect(text).toMatch(/--heartbeat-interval <duration>\s+time between heartbeats \(default 30s\)/);
    expect(text).toMatch(/--inspect\[=PORT\]/);
    expect(text).toContain('env APIARY_QUEEN_URL');
    expect(text).toContain('--help');
  });
});

describe('ids', () => {
  it('refuses a --hive-id longer than the contract allows, naming the flag', () => {
    expect(() => parseOptions(hiveOptions, { argv: ['--hive-id', 'h'.repeat(129)] })).toThrow(/^--hive-id: .*128/);
    const parsed = parseOptions(hiveOptions, { argv: ['--hive-id', 'h'.repeat(128)] });
    expect(parsed.help === false && parsed.options.hiveId).toBe('h'.repeat(128));
  });

  it('refuses a --worker-id longer than the contract allows', () => {
    const argv = ['--queen-url', 'http://q:7833', '--port', '0', '--worker-id', 'w'.repeat(129)];
    expect(() => parseOptions(workerOptions, { argv })).toThrow(/^--worker-id: .*128/);
  });

  // Each value the queen would refuse on every heartbeat: a control character, a lone surrogate, too long.
  it.each<['hive' | 'worker', string, string, RegExp]>([
    ['hive', 'hive-id', 'gpu\\tnode', /control characters/],
    ['hive', 'hive-id', 'gpu-\\ud800', /lone surrogate/],
    ['worker', 'hive-id', 'gpu\\nnode', /control characters/],
    ['worker', 'worker-id', 'w\\u0000', /control characters/],
    ['worker', 'device', 'd'.repeat(200), /128/],
    ['worker', 'device', 'GPU\\t0', /control characters/],
    ['worker', 'model', 'm'.repeat(1025), /1024/],
  ])('refuses what the queen would refuse: the %s --%s %j', (role, flag, escaped, why) => {
    const value: unknown = JSON.parse(`"${escaped}"`);
    const specs = role === 'hive' ? hiveOptions : workerOptions;
    const error = optionError(specs, [...WORKER_ARGS, `--${flag}`, String(value)]);
    expect(error?.flag).toBe(flag);
    expect(error?.message).toMatch(why);
  });

  it('takes the values the queen takes', () => {
    const ids = ['--device', 'GPU-1', '--worker-id', 'gpu-a-9301', '--hive-id', 'gpu-a', '--model', 'org/m'];
    const { device, workerId, hiveId, model } = parse(workerOptions, [...WORKER_ARGS, ...ids]);
    expect([device, workerId, hiveId, model]).toEqual(['GPU-1', 'gpu-a-9301', 'gpu-a', 'org/m']);
  });
});

describe('URLs with credentials', () => {
  it.each<[OptionSpecs, string]>([
    [queenOptions, 'advertise-url'],
    [hiveOptions, 'queen-url'],
    [hiveOptions, 'advertise-url'],
    [workerOptions, 'queen-url'],
    [workerOptions, 'upstream'],
  ])('refuses a user or password in --%s, naming the flag and never the secret', (specs, flag) => {
    const required = specs === workerOptions ? ['--port', '0', '--queen-url', 'http://q:7833'] : [];
    for (const url of ['http://admin:s3cret@host:7833', 'http://s3cret@host:7833']) {
      const error = optionError(specs, [...required, `--${flag}`, url]);
      expect(error?.flag).toBe(flag);
      expect(error?.message).toContain(`--${flag}`);
      expect(error?.message).not.toContain('s3cret');
    }
  });
});

import os from 'node:os';
import path from 'node:path';
import { LOG_LEVELS } from '../logger.js';
import { DEFAULT_INSPECT_PORT, type OptionSpecs } from './spec.js';

/** `$XDG_STATE_HOME/apiary/<role>`, else `~/.local/state/apiary/<role>`, read when the process starts. */
export function defaultStateDir(role: 'queen' | 'hive', env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME ? env.XDG_STATE_HOME : path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'apiary', role);
}

/** `--heartbeat-interval`, declared once: each role gives its default and what the interval means to it. */
export function heartbeatInterval<D extends string>(defaultText: D, description: string) {
  return { kind: 'duration', default: defaultText, min: 1, description } as const;
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
  'heartbeat-interval': heartbeatInterval('30s', 'time between heartbeats'),
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

import { LOG_LEVELS } from '../logger.js';
import { commonOptions, heartbeatInterval } from './common.js';
import type { OptionSpecs } from './spec.js';

/** `npm start`: a whole cluster on this machine, for trying Apiary out. */
export const clusterOptions = {
  ...commonOptions,
  'log-level': { kind: 'string', default: 'warn', values: LOG_LEVELS, description: 'log level of every role' },
  port: { kind: 'port', default: '7833', description: "the queen's port (hives and workers take free ports)" },
  hives: { kind: 'int', default: '1', min: 1, max: 64, description: 'hives to start' },
  workers: { kind: 'int', default: '1', min: 0, max: 16, description: 'workers each hive spawns' },
  'heartbeat-interval': heartbeatInterval(
    '2s',
    'heartbeat interval of every sender; suspect after 2.5×, offline after 5×',
  ),
} as const satisfies OptionSpecs;

import os from 'node:os';
import { Id } from '../../contracts/common.js';
import { commonOptions, defaultStateDir, senderOptions } from './common.js';
import type { OptionSpecs } from './spec.js';

export const hiveOptions = {
  ...commonOptions,
  ...senderOptions,
  port: { kind: 'port', default: '7835', description: 'port to listen on' },
  'hive-id': { kind: 'string', default: os.hostname(), schema: Id, description: 'this hive id' },
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

import os from 'node:os';
import { Id } from '../../contracts/common.js';
import { WorkerHeartbeat } from '../../contracts/heartbeat.js';
import { commonOptions, senderOptions } from './common.js';
import type { OptionSpecs } from './spec.js';

export const workerOptions = {
  ...commonOptions,
  ...senderOptions,
  port: { kind: 'port', required: true, description: 'port to listen on' },
  'queen-url': { kind: 'urls', required: true, description: 'queens to heartbeat to, comma-separated' },
  'worker-id': { kind: 'string', schema: Id, description: 'this worker id (default: <hive-id>-<port>)' },
  'hive-id': {
    kind: 'string',
    default: os.hostname(),
    schema: Id,
    description: 'hive this worker belongs to',
  },
  model: { kind: 'string', default: 'demo', schema: WorkerHeartbeat.shape.model, description: 'model served' },
  device: { kind: 'string', default: 'CPU-0', schema: Id, description: 'device used, e.g. GPU-0 or CPU-0' },
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

import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as barrel from '../../contracts/index.js';
import {
  ack,
  capabilities,
  capabilityChanges,
  changesHeartbeat,
  discoveryHeartbeat,
  errorBody,
  hiveView,
  livenessEvent,
  monitorData,
  periodicHeartbeat,
  queenEvent,
  queenHealth,
  resyncAck,
  snapshotEvent,
  stoppingHeartbeat,
  unseenHiveView,
  workerHeartbeat,
  workerView,
} from '../fixtures/examples.js';

/**
 * Every zod schema exported by any file of `contracts/` survives JSON unchanged. The samples are keyed by export
 * name and a schema without samples fails the test, so a new schema cannot slip in untested.
 */

const spawned = { worker_id: 'gpu-node-1-9302', port: 9302, pid: 48_121 };
const hiveWorker = { ...spawned, model: 'llama-3.1-8b-instruct-q4_k_m', device: 'GPU-1', worker_type: 'cuda' };
const usage = { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 };
const workerRecord = {
  ...hiveWorker,
  engine: 'llama.cpp',
  queen_url: 'http://192.168.1.10:7833',
  worker_url: 'http://192.168.1.11:9302',
  started_at: 1_764_450_000_000,
};
const engineSpec = {
  engine: 'llama.cpp',
  command: ['llama-server', '-m', '{model_path}', '--port', '{engine_port}'],
  env: { CUDA_VISIBLE_DEVICES: '{device_index}' },
  health_path: '/health',
  ready_timeout: 600_000,
};
const modelCard = { id: 'demo', object: 'model', created: 1_761_835_920, owned_by: 'apiary' };

const secret = 'mJc8Jx3Kq1sVdQ2yZ0a4b5c6d7e8f9g0h1i2j3k4l5m';
const withSecret = { ...periodicHeartbeat, hive_secret: secret };
const events = [
  {
    seq: 1,
    time: '2025-10-30T14:52:00.000Z',
    kind: 'hive',
    id: 'gpu-node-1',
    type: 'registered',
    to: 'online',
    reason: 'heartbeat',
  },
  {
    seq: 2,
    time: '2025-10-30T14:53:00.000Z',
    kind: 'hive',
    id: 'gpu-node-1',
    type: 'capabilities',
    detail: { capabilities_version: 4, changes: capabilityChanges },
  },
  {
    seq: 3,
    time: '2025-10-30T14:54:00.000Z',
    kind: 'worker',
    id: 'gpu-node-1-9301',
    hive_id: 'gpu-node-1',
    type: 'liveness',
    from: 'online',
    to: 'offline',
    reason: 'hive offline',
  },
];

const SAMPLES: Record<string, readonly unknown[]> = {
  // alert
  AlertProblem: ['hive_offline', 'worker_error', 'hive_identity_refused', 'queen_degraded'],
  AlertState: ['open', 'resolved'],
  AlertKind: ['hive', 'worker', 'queen'],
  WebhookAlert: [
    {
      event: 'hive_offline',
      state: 'open',
      kind: 'hive',
      id: 'gpu-a',
      time: '2026-01-01T00:00:00.000Z',
      reason: 'missed heartbeats',
    },
  ],
  // common
  Id: ['a', 'x'.repeat(128), 'GPU-0'],
  Text: ['', 'NVIDIA GeForce RTX 3090', 'bee \u{1F41D}'],
  Timestamp: ['2025-10-30T14:52:00.000Z', '2025-10-30T14:52:00Z', '2025-10-30T15:52:00+01:00'],
  NonNegative: [0, 4.58],
  NonNegativeInt: [0, 86_400],
  Percent: [0, 23.5, 100],
  Port: [1, 7833, 65535],
  UnprivilegedPort: [1024, 7833, 65535],
  HttpUrl: ['http://127.0.0.1:7833', 'https://queen.example.org/apiary'],
  HiveSecret: [secret],
  // capabilities
  DeviceType: ['gpu', 'cpu'],
  Device: capabilities.devices,
  Model: capabilities.models,
  WorkerType: capabilities.workers,
  Capabilities: [capabilities, { devices: [], models: [], workers: [] }],
  ChangeAction: ['added', 'removed'],
  ModelChange: capabilityChanges.models,
  WorkerTypeChange: capabilityChanges.workers,
  DeviceChange: [
    { action: 'removed', id: 'GPU-1', name: 'NVIDIA GeForce RTX 3090', device_type: 'gpu', vram_gb: 24 },
    { action: 'added', id: 'GPU-1', name: 'NVIDIA GeForce RTX 3090', device_type: 'gpu' },
  ],
  CapabilityChanges: [
    capabilityChanges,
    { ...capabilityChanges, devices: [{ action: 'removed', id: 'GPU-1', name: 'GPU', device_type: 'gpu' }] },
  ],
  // metrics history
  MetricsQuery: [{}, { since: '2025-10-30T14:00:00Z' }],
  MetricsPoint: [
    [1_761_835_920, 23.5],
    [1_761_835_950, null],
  ],
  HiveMetrics: [
    { hive_id: 'gpu-node-1', step_s: 0, series: {} },
    {
      hive_id: 'gpu-node-1',
      step_s: 60,
      series: {
        cpu: [
          [1_761_835_920, 23.5],
          [1_761_835_980, null],
        ],
        'gpu.GPU-0.utilization': [
          [1_761_835_920, 97],
          [1_761_835_980, null],
        ],
      },
    },
  ],
  // heartbeat
  DeviceMonitorData: monitorData.devices,
  MonitorData: [monitorData],
  HiveStatus: ['ready', 'stopping'],
  BootId: ['b-5d21e0c4', '2f1c0c1e-8d9e-4f4b-9a57-2a1f6c3d7e10'],
  Seq: [0, 41],
  HiveHeartbeat: [
    discoveryHeartbeat,
    periodicHeartbeat,
    changesHeartbeat,
    stoppingHeartbeat,
    withSecret,
    { ...periodicHeartbeat, seq: 7 },
  ],
  HiveReport: [{ ...periodicHeartbeat, capability_changes: undefined }],
  WorkerReport: [workerHeartbeat],
  WorkerStatus: ['starting', 'ready', 'busy', 'error', 'stopped'],
  WorkerEngine: ['llama.cpp', 'vllm', 'openai', 'demo'],
  WorkerHeartbeat: [
    workerHeartbeat,
    { ...workerHeartbeat, status: 'busy', worker_url: undefined },
    {
      ...workerHeartbeat,
      status: 'error',
      engine: 'llama.cpp',
      slots_total: 4,
      slots_busy: 1,
      queue_depth: 2,
      kv_cache_usage: 0.31,
      last_error: 'engine exited (SIGKILL)',
      restarts: 1,
    },
  ],
  // engine
  EngineKind: ['llama.cpp', 'vllm', 'openai'],
  EngineSpec: [engineSpec],
  EngineManifest: [{ worker_type: 'llama-server', version: 'b6000', ...engineSpec }],
  HeartbeatAck: [ack, resyncAck, { ...ack, hive_secret: secret }],
  ErrorIssue: errorBody.issues ?? [],
  ErrorBody: [errorBody, { error: 'Unauthorized.' }],
  LeaderRedirect: [{ leader_url: 'http://queen-2.lan:7833' }],
  // election
  QueenRole: ['candidate', 'leader', 'follower'],
  LeaderValue: [{ queen_url: 'http://queen-1.lan:7833', queen_epoch: 'q-0123456789ab' }],
  // hive-api
  CapabilitiesQuery: [{}, { queen_url: 'http://192.168.1.10:7833' }],
  CapabilitiesResponse: [{ hive_id: 'gpu-node-1', ...capabilities, monitor_data: monitorData }],
  HiveHealth: [
    { status: 'ok', hive_id: 'gpu-node-1', lifecycle: 'HEARTBEATING', queen_url: 'http://192.168.1.10:7833' },
    { status: 'ok', hive_id: 'gpu-node-1', lifecycle: 'DISCOVERY_WAIT', queen_url: null },
  ],
  SpawnWorkerRequest: [{ model: 'demo' }, { model: 'demo', device: 'GPU-1', worker_type: 'cuda', port: 9302 }],
  SpawnWorkerResponse: [spawned],
  HiveWorker: [hiveWorker, { ...hiveWorker, engine: 'vllm' }],
  HiveWorkerList: [{ workers: [hiveWorker] }, { workers: [] }],
  WorkerHealth: [
    {
      status: 'ready',
      worker_id: 'gpu-node-1-9301',
      model: 'demo',
      device: 'CPU-0',
      requests_served: 7,
      in_flight: 1,
      uptime_seconds: 60,
      upstream: null,
    },
  ],
  // worker-records
  WorkerRecord: [workerRecord],
  WorkerRecords: [
    { hive_id: 'gpu-node-1', workers: [workerRecord] },
    { hive_id: 'gpu-node-1', workers: [] },
  ],
  // registry
  Liveness: ['online', 'suspect', 'offline'],
  LivenessReason: [
    'heartbeat',
    'missed heartbeats',
    'graceful stop',
    'hive offline',
    'forgotten',
    'discovered',
    'queen restart',
  ],
  HiveView: [hiveView, unseenHiveView],
  WorkerView: [workerView],
  HiveList: [{ hives: [hiveView, unseenHiveView] }],
  WorkerList: [{ workers: [workerView] }],
  WorkerFilter: [{}, { hive_id: 'gpu-node-1', model: 'demo' }],
  QueenHealth: [
    queenHealth,
    { ...queenHealth, role: 'follower', leader_url: 'http://queen-2.lan:7833' },
    { ...queenHealth, role: 'candidate', leader_url: null },
  ],
  // events
  EventKind: ['hive', 'worker'],
  EventType: ['liveness', 'capabilities', 'registered', 'identity_refused', 'forgotten'],
  HistoryEvent: events,
  EventOrder: ['oldest', 'newest'],
  EventQuery: [
    { order: 'oldest', after: 0, limit: 100 },
    { kind: 'hive', id: 'gpu-node-1', order: 'oldest', after: 12, limit: 1000 },
    { hive: 'gpu-node-1', order: 'newest', after: 0, before: 40, limit: 50 },
  ],
  EventPage: [
    { events, next: 2 },
    { events: [], next: null },
  ],
  // stream
  SnapshotEvent: [snapshotEvent],
  QueenEvent: [queenEvent],
  HiveEvent: [{ ...hiveView, type: 'hive' }],
  WorkerEvent: [{ ...workerView, type: 'worker' }],
  LivenessEvent: [livenessEvent, { ...livenessEvent, from: null, to: 'online', reason: 'heartbeat' }],
  StreamEvent: [snapshotEvent, queenEvent, { ...hiveView, type: 'hive' }, { ...workerView, type: 'worker' }],
  // inference
  ChatContentPart: [{ type: 'text', text: 'hello' }],
  ChatMessage: [
    { role: 'user', content: 'hello' },
    { role: 'assistant', content: null },
  ],
  ChatCompletionRequest: [{ model: 'demo', messages: [{ role: 'user', content: 'hi' }], stream: true, max_tokens: 8 }],
  CompletionPrompt: ['once upon', ['a', 'b'], [[1, 2, 3]]],
  CompletionRequest: [{ model: 'demo', prompt: 'once upon', max_tokens: 4 }],
  FinishReason: ['stop', 'length'],
  Usage: [usage],
  ChatCompletion: [
    {
      id: 'chatcmpl-1',
      created: 1_761_835_920,
      model: 'demo',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
      usage,
    },
  ],
  ChatCompletionChunk: [
    {
      id: 'chatcmpl-1',
      created: 1_761_835_920,
      model: 'demo',
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: { content: 'he' }, finish_reason: null }],
    },
  ],
  Completion: [
    {
      id: 'cmpl-1',
      created: 1_761_835_920,
      model: 'demo',
      object: 'text_completion',
      choices: [{ index: 0, text: ' a time', logprobs: null, finish_reason: 'length' }],
      usage,
    },
  ],
  ModelCard: [modelCard],
  ModelList: [{ object: 'list', data: [modelCard] }],
  OpenAIError: [{ error: { message: 'upstream did not answer within 60000 ms', type: 'timeout', code: 504 } }],
};

/** Every zod schema exported by a file of contracts/, by export name. */
async function contractSchemas(): Promise<Map<string, z.ZodType>> {
  const dir = fileURLToPath(new URL('../../contracts/', import.meta.url));
  const schemas = new Map<string, z.ZodType>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))) {
    const module: Record<string, unknown> = await import(pathToFileURL(`${dir}${file}`).href);
    for (const [name, value] of Object.entries(module)) {
      if (!(value instanceof z.ZodType)) continue;
      const known = schemas.get(name);
      if (known && known !== value) throw new Error(`two different contract schemas are exported as ${name}`);
      schemas.set(name, value);
    }
  }
  return schemas;
}

const schemas = await contractSchemas();

describe('contracts round-trip through JSON', () => {
  it('finds the schemas (the scan itself works)', () => {
    expect(schemas.get('HiveHeartbeat')).toBe(barrel.HiveHeartbeat);
    expect(schemas.size).toBeGreaterThan(40);
  });

  it('has samples for every exported schema, and no samples for a schema that is gone', () => {
    expect([...schemas.keys()].filter((name) => !(SAMPLES[name]?.length ?? 0)).sort()).toEqual([]);
    expect(Object.keys(SAMPLES).filter((name) => !schemas.has(name))).toEqual([]);
  });

  for (const [name, samples] of Object.entries(SAMPLES)) {
    it(`${name}: parse(JSON.parse(JSON.stringify(x))) deep-equals x`, () => {
      const schema = schemas.get(name);
      expect(schema).toBeDefined();
      for (const sample of samples) {
        const wire: unknown = JSON.parse(JSON.stringify(sample));
        expect(schema?.parse(wire)).toStrictEqual(wire);
        expect(schema?.parse(wire)).toEqual(sample);
      }
    });
  }
});

describe('the contract barrel', () => {
  it('re-exports the paths and limits both clients and servers use', () => {
    expect(barrel.QUEEN_PATHS.hiveHeartbeat).toBe('/v1/hive-heartbeat');
    expect(barrel.QUEEN_PATHS.workerHeartbeat).toBe('/v1/worker-heartbeat');
    expect(barrel.LIMITS).toMatchObject({ devices: 64, models: 10_000, workerTypes: 1_000, bodyBytes: 262_144 });
  });
});

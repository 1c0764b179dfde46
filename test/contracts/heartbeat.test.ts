import { describe, expect, it } from 'vitest';
import { ErrorBody, HeartbeatAck, HiveHeartbeat, WorkerHeartbeat } from '../../contracts/heartbeat.js';
import {
  ack,
  changesHeartbeat,
  discoveryHeartbeat,
  errorBody,
  periodicHeartbeat,
  stoppingHeartbeat,
  workerHeartbeat,
} from '../fixtures/examples.js';
import { issuePaths, times, withValue } from './issue-paths.js';

/**
 * The heartbeat payloads of docs/protocol.md: Queen HTTP API, Payloads. The design document sketches them in Rust (no literal JSON), so the
 * examples are the shared fixtures built from its fields, plus the JSON that docs/protocol.md itself writes out.
 */

describe('example payloads', () => {
  it.each([
    ['a discovery heartbeat: monitor data and full capabilities', discoveryHeartbeat],
    ['a periodic heartbeat: monitor data only', periodicHeartbeat],
    ['a heartbeat with capability changes', changesHeartbeat],
    ['the stopping heartbeat of a clean exit', stoppingHeartbeat],
  ])('%s parses as sent', (_label, example) => {
    expect(HiveHeartbeat.parse(JSON.parse(JSON.stringify(example)))).toEqual(example);
  });

  it("parses a hive heartbeat with only the design's fields (every v1 addition is optional)", () => {
    // The design's HiveHeartbeat { hive_id, timestamp, monitor_data, capabilities: Some(capabilities) }.
    const designOnly = JSON.parse(`{
      "hive_id": "gpu-node-1",
      "timestamp": "2025-10-30T14:52:00.000Z",
      "monitor_data": {
        "cpu_usage_percent": 12.5, "ram_used_gb": 20.1, "ram_total_gb": 64, "uptime_seconds": 3600,
        "devices": [{ "device_id": "GPU-0", "vram_used_gb": 6.2, "vram_total_gb": 24 }]
      },
      "capabilities": {
        "devices": [{ "id": "GPU-0", "name": "NVIDIA GeForce RTX 3090", "device_type": "gpu" }],
        "models": [{ "model_id": "llama-3.1-8b", "size_gb": 4.58 }],
        "workers": [{ "worker_type": "cuda", "version": "0.1.0" }]
      }
    }`);
    expect(HiveHeartbeat.parse(designOnly)).toEqual(designOnly);
  });

  it('parses a worker heartbeat as sent, and without the optional worker_url', () => {
    expect(WorkerHeartbeat.parse(JSON.parse(JSON.stringify(workerHeartbeat)))).toEqual(workerHeartbeat);
    const { worker_url: _, ...withoutUrl } = workerHeartbeat;
    expect(WorkerHeartbeat.parse(withoutUrl)).toEqual(withoutUrl);
  });

  it('parses the HeartbeatAck and error JSON exactly as docs/protocol.md: Queen HTTP API writes them', () => {
    const protocolAck = JSON.parse(
      '{"status": "ok", "queen_epoch": "<random id of this queen process>", "resync": false}',
    );
    expect(HeartbeatAck.parse(protocolAck)).toEqual(protocolAck);
    expect(HeartbeatAck.parse(ack)).toEqual(ack);
    const protocolError = JSON.parse(
      '{"error": "<one sentence>", "issues": [{"path": "monitor_data.cpu_usage_percent", "message": "..."}]}',
    );
    expect(ErrorBody.parse(protocolError)).toEqual(protocolError);
    expect(ErrorBody.parse(errorBody)).toEqual(errorBody);
  });

  it('accepts capability_changes: null, as a periodic heartbeat may send it', () => {
    expect(HiveHeartbeat.safeParse({ ...periodicHeartbeat, capability_changes: null }).success).toBe(true);
  });
});

describe('HiveHeartbeat bounds', () => {
  it.each<[string, unknown]>([
    ['hive_id', ''],
    ['hive_id', 'h'.repeat(129)],
    ['hive_id', undefined],
    ['timestamp', 'yesterday'],
    ['timestamp', '2025-10-30T14:52:00'],
    ['timestamp', '2025-10-30 14:52:00Z'],
    ['timestamp', 1_761_835_920_000],
    ['monitor_data', undefined],
    ['monitor_data.cpu_usage_percent', -0.1],
    ['monitor_data.cpu_usage_percent', 100.1],
    ['monitor_data.ram_used_gb', -1],
    ['monitor_data.ram_total_gb', -0.5],
    ['monitor_data.uptime_seconds', -1],
    ['monitor_data.uptime_seconds', 1.5],
    ['monitor_data.collected_at', 'now'],
    ['monitor_data.devices', times(65, (i) => ({ device_id: `GPU-${i}`, vram_used_gb: 0, vram_total_gb: 8 }))],
    ['monitor_data.devices.0.device_id', ''],
    ['monitor_data.devices.0.vram_used_gb', -2],
    ['monitor_data.devices.0.vram_total_gb', -24],
    ['capabilities.devices', times(65, (i) => ({ id: `GPU-${i}`, name: 'gpu', device_type: 'gpu' }))],
    ['capabilities.devices.0.id', 'd'.repeat(129)],
    ['capabilities.devices.0.device_type', 'tpu'],
    ['capabilities.devices.0.vram_gb', -24],
    ['capabilities.models', times(10_001, (i) => ({ model_id: `m-${i}`, size_gb: 1 }))],
    ['capabilities.models.1.size_gb', -4.58],
    ['capabilities.models.1.model_id', ''],
    ['capabilities.workers', times(1_001, (i) => ({ worker_type: `w-${i}`, version: '1' }))],
    ['capabilities.workers.0.worker_type', ''],
    ['capabilities_version', -1],
    ['capabilities_version', 0.5],
    ['hive_url', 'ftp://192.168.1.21/'],
    ['hive_url', 'javascript:alert(1)'],
    ['hive_url', 'not a url'],
    ['status', 'running'],
    // Free text must be well-formed Unicode: a lone surrogate would break every JSON answer repeating it.
    ['boot_id', '\udfff'],
    ['capabilities.devices.0.name', 'GPU \ud800'],
    ['capabilities.devices.0.compute_capability', '8.\udc00'],
    ['capabilities.models.1.model_id', 'a\u0000b\u2028c\ud800'],
    ['capabilities.workers.0.version', '\ud83d'],
  ])('rejects %s = %j at that path', (path, value) => {
    expect(issuePaths(HiveHeartbeat, discoveryHeartbeat)).toEqual([]);
    expect(issuePaths(HiveHeartbeat, withValue(discoveryHeartbeat, path, value))).toContain(path);
  });

  it.each<[string, unknown]>([
    ['capability_changes.models', times(10_001, (i) => ({ action: 'added', model_id: `m-${i}`, size_gb: 1 }))],
    ['capability_changes.models.0.action', 'renamed'],
    ['capability_changes.models.0.size_gb', -1],
    ['capability_changes.workers', times(1_001, (i) => ({ action: 'added', worker_type: `w-${i}`, version: '1' }))],
    ['capability_changes.workers.0.action', 'changed'],
    ['capability_changes.models.0.model_id', 'm\udbff'],
  ])('rejects %s = %j in a capability change', (path, value) => {
    expect(issuePaths(HiveHeartbeat, changesHeartbeat)).toEqual([]);
    expect(issuePaths(HiveHeartbeat, withValue(changesHeartbeat, path, value))).toContain(path);
  });

  it.each<[string, unknown]>([
    ['hive_id', 'h'],
    ['hive_id', 'h'.repeat(128)],
    ['monitor_data.cpu_usage_percent', 0],
    ['monitor_data.cpu_usage_percent', 100],
    ['monitor_data.uptime_seconds', 0],
    ['monitor_data.devices', times(64, (i) => ({ device_id: `GPU-${i}`, vram_used_gb: 0, vram_total_gb: 8 }))],
    ['capabilities.devices', times(64, (i) => ({ id: `GPU-${i}`, name: 'gpu', device_type: 'gpu' }))],
    ['capabilities.models', times(10_000, (i) => ({ model_id: `m-${i}`, size_gb: 0 }))],
    ['capabilities.workers', times(1_000, (i) => ({ worker_type: `w-${i}`, version: '1' }))],
    ['timestamp', '2025-10-30T16:52:00.123456+02:00'],
    ['hive_url', 'https://hive.example.org:8443/apiary'],
  ])('accepts the edge %s = %j', (path, value) => {
    expect(issuePaths(HiveHeartbeat, withValue(discoveryHeartbeat, path, value))).toEqual([]);
  });
});

describe('WorkerHeartbeat bounds', () => {
  it.each<[string, unknown]>([
    ['worker_id', ''],
    ['worker_id', 'w'.repeat(129)],
    ['hive_id', ''],
    ['timestamp', '30 Oct 2025 14:52:05 GMT'],
    ['status', 'idle'],
    ['model', ''],
    ['device', ''],
    ['port', 0],
    ['port', 65_536],
    ['port', 9301.5],
    ['requests_served', -1],
    ['requests_served', 0.5],
    ['uptime_seconds', -1],
    ['worker_url', 'file:///etc/passwd'],
    ['worker_url', 'ws://192.168.1.21:9301'],
    ['model', 'llama\ud800'],
    ['last_error', 'failed: \udc00'],
  ])('rejects %s = %j at that path', (path, value) => {
    expect(issuePaths(WorkerHeartbeat, workerHeartbeat)).toEqual([]);
    expect(issuePaths(WorkerHeartbeat, withValue(workerHeartbeat, path, value))).toContain(path);
  });

  it.each<[string, unknown]>([
    ['port', 1],
    ['port', 65_535],
    ['worker_id', 'w'.repeat(128)],
    ['requests_served', 0],
    ['model', 'llama-\u{1F41D}\u2028'],
    ['last_error', 'line 1\nline 2 \u{1F41D}'],
  ])('accepts the edge %s = %j', (path, value) => {
    expect(issuePaths(WorkerHeartbeat, withValue(workerHeartbeat, path, value))).toEqual([]);
  });
});

describe('HeartbeatAck', () => {
  it.each<[string, unknown]>([
    ['status', 'OK'],
    ['status', undefined],
    ['queen_epoch', ''],
    ['resync', 'false'],
    ['resync', undefined],
  ])('rejects %s = %j at that path', (path, value) => {
    expect(issuePaths(HeartbeatAck, withValue(ack, path, value))).toContain(path);
  });
});

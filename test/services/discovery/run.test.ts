import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runDiscovery } from '../../../services/discovery/run.js';
import { createLogger } from '../../../services/logger.js';
import { createQueenMetrics } from '../../../services/metrics.js';
import { queenHealth } from '../../../services/queen/views.js';
import { startRegistry, startServedRegistry } from '../../support/queen-registry.js';
import { type HiveServers, startHiveServers } from './hive-servers.js';

let servers: HiveServers | undefined;
let dir: string | undefined;
afterEach(async () => {
  await servers?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  servers = undefined;
  dir = undefined;
});

describe('a discovery run', () => {
  it('registers the hives that answer and lists the others as expected, logging each failure once', async () => {
    servers = await startHiveServers({ '127.0.0.2': { kind: 'answer', hiveId: 'gpu-a' } });
    dir = await mkdtemp(path.join(os.tmpdir(), 'apiary-discovery-'));
    const config = path.join(dir, 'config');
    await writeFile(config, 'Host hive-a\n  HostName 127.0.0.2\nHost hive-b\n  HostName 127.0.0.9\n');
    const harness = startRegistry();
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ write: (line) => lines.push(JSON.parse(line)) });
    const metrics = createQueenMetrics();
    const summary = await runDiscovery({
      hivesConfig: config,
      hivePort: servers.port,
      queenUrl: 'http://127.0.0.1:7833',
      timeoutMs: 2_000,
      registry: harness.registry,
      metrics,
      logger,
    });
    expect(summary).toEqual({ targets: 2, registered: 1, identified: 0, failed: 1, skipped: 0 });
    expect(harness.registry.hives.get('gpu-a')).toMatchObject({ liveness: 'online', expected: true });
    expect(harness.registry.hives.get('hive-b')).toMatchObject({
      liveness: 'offline',
      expected: true,
      hiveUrl: `http://127.0.0.9:${servers.port}`,
    });
    expect(queenHealth(harness.registry, 'q')).toMatchObject({
      status: 'degraded',
      hives: { expected: 2, online: 1, offline: 1 },
    });
    expect(harness.transitions()).toEqual(['hive gpu-a new→online (discovered) @0']);
    expect(lines.map((line) => line.msg)).toEqual(['hive not discovered', 'discovery finished']);
    expect(lines[0]).toMatchObject({ level: 'warn', host: 'hive-b', host_name: '127.0.0.9' });
    const text = await metrics.render();
    expect(text).toContain('apiary_discovery_hives_total{result="registered"} 1');
    expect(text).toContain('apiary_discovery_hives_total{result="failed"} 1');
  });

  it('does not take an answer past a bound a heartbeat would pass: the host is expected and logged instead', async () => {
    servers = await startHiveServers({ '127.0.0.2': { kind: 'answer', hiveId: 'gpu-a' } });
    dir = await mkdtemp(path.join(os.tmpdir(), 'apiary-discovery-'));
    const config = path.join(dir, 'config');
    await writeFile(config, 'Host hive-a\n  HostName 127.0.0.2\n');
    const registry = startServedRegistry({ hives: 0, workers: 0 });
    const lines: Array<Record<string, unknown>> = [];
    const summary = await runDiscovery({
      hivesConfig: config,
      hivePort: servers.port,
      queenUrl: 'http://127.0.0.1:7833',
      timeoutMs: 2_000,
      registry,
      metrics: createQueenMetrics(),
      logger: createLogger({ write: (line) => lines.push(JSON.parse(line)) }),
    });
    await registry.stop();
    expect(summary).toEqual({ targets: 1, registered: 0, identified: 0, failed: 1, skipped: 0 });
    expect(registry.hives.get('gpu-a')).toBeUndefined();
    expect(registry.hives.get('hive-a')).toMatchObject({ liveness: 'offline', expected: true });
    expect(lines[0]).toMatchObject({ msg: 'hive not discovered', host: 'hive-a' });
    expect(String(lines[0]?.error)).toContain('--max-hives');
  });

  it('does nothing without a hives config', async () => {
    const harness = startRegistry();
    const summary = await runDiscovery({
      hivesConfig: path.join(os.tmpdir(), `apiary-no-config-${process.pid}`),
      hivePort: 7835,
      queenUrl: 'http://127.0.0.1:7833',
      timeoutMs: 100,
      registry: harness.registry,
      metrics: createQueenMetrics(),
      logger: createLogger({ write: () => {} }),
    });
    expect(summary).toEqual({ targets: 0, registered: 0, identified: 0, failed: 0, skipped: 0 });
    expect(harness.registry.hives.size).toBe(0);
  });
});

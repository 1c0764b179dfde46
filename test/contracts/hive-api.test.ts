import { describe, expect, it } from 'vitest';
import { CapabilitiesQuery, CapabilitiesResponse, SpawnWorkerRequest } from '../../contracts/hive-api.js';
import { capabilities, HIVE_ID, monitorData } from '../fixtures/examples.js';
import { issuePaths, times, withValue } from './issue-paths.js';

describe('hive API contracts', () => {
  it.each(['gopher://queen:7833', 'file:///tmp/x', 'javascript:alert(1)', '127.0.0.1:7833'])(
    'GET /capabilities refuses queen_url=%s, which is not an http(s) URL',
    (queenUrl) => {
      expect(issuePaths(CapabilitiesQuery, { queen_url: queenUrl })).toEqual(['queen_url']);
    },
  );

  it('GET /capabilities answers within the capability limits', () => {
    const answer = { hive_id: HIVE_ID, ...capabilities, monitor_data: monitorData };
    expect(issuePaths(CapabilitiesResponse, answer)).toEqual([]);
    const gpus = times(65, (i) => ({ id: `GPU-${i}`, name: 'gpu', device_type: 'gpu' }));
    expect(issuePaths(CapabilitiesResponse, withValue(answer, 'devices', gpus))).toContain('devices');
    expect(issuePaths(CapabilitiesResponse, withValue(answer, 'hive_id', ''))).toContain('hive_id');
  });

  it.each<[string, unknown]>([
    ['model', ''],
    ['model', undefined],
    ['port', 0],
    ['port', 22],
    ['port', 1023],
    ['port', 70_000],
    ['device', ''],
  ])('POST /v1/workers rejects %s = %j at that path', (path, value) => {
    const request = { model: 'demo', device: 'GPU-0', worker_type: 'cuda', port: 9302 };
    expect(issuePaths(SpawnWorkerRequest, request)).toEqual([]);
    expect(issuePaths(SpawnWorkerRequest, withValue(request, path, value))).toContain(path);
  });

  it('POST /v1/workers takes the lowest unprivileged port', () => {
    expect(issuePaths(SpawnWorkerRequest, { model: 'demo', port: 1024 })).toEqual([]);
  });
});

import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ErrorBody, HiveHeartbeat, WorkerHeartbeat } from '../../../../contracts/heartbeat.js';
import { isJson, type JsonBodyOptions, jsonBody } from '../../../../services/http/middleware/json-body.js';
import { issuesOf } from '../../../../services/parse-json.js';
import { times, withValue } from '../../../contracts/issue-paths.js';
import {
  changesHeartbeat,
  discoveryHeartbeat,
  periodicHeartbeat,
  stoppingHeartbeat,
  workerHeartbeat,
} from '../../../fixtures/examples.js';
import { mulberry32 } from '../../../sim/random.js';

/** An app that answers the validated body back, and counts how often its handler ran. */
function echo<S extends z.ZodType>(schema: S, options: JsonBodyOptions = {}) {
  const app = new Hono();
  let handled = 0;
  app.post('/', jsonBody(schema, 'payload', options), (c) => {
    handled++;
    return c.json({ body: c.get('body') });
  });
  // Bytes, not a string: a string body would get a text/plain content-type of its own.
  const post = (body: string, contentType: string | null = 'application/json') =>
    app.request('/', {
      method: 'POST',
      body: new TextEncoder().encode(body),
      headers: contentType === null ? {} : { 'content-type': contentType },
    });
  return { post, handled: () => handled };
}

/** What the schema itself (not compiled) says of the JSON `text`: the handler's body, or the 400's issues. */
function expected(schema: z.ZodType, text: string) {
  const result = schema.safeParse(JSON.parse(text));
  return result.success ? { status: 200, body: result.data } : { status: 400, issues: issuesOf(result.error) };
}

async function answer(response: Response) {
  const json: unknown = await response.json();
  if (response.status === 200) return { status: 200, body: Reflect.get(Object(json), 'body') };
  return { status: response.status, issues: ErrorBody.parse(json).issues };
}

describe('jsonBody', () => {
  it.each([
    ['a discovery heartbeat', discoveryHeartbeat],
    ['a periodic heartbeat', periodicHeartbeat],
    ['a heartbeat with capability changes', changesHeartbeat],
    ['a stopping heartbeat', stoppingHeartbeat],
  ])('hands %s to the handler as the schema parses it', async (_label, heartbeat) => {
    const app = echo(HiveHeartbeat);
    const response = await app.post(JSON.stringify(heartbeat));
    expect(await answer(response)).toEqual({ status: 200, body: heartbeat });
    expect(app.handled()).toBe(1);
  });

  it('drops keys the contract does not know, at every depth, as the schema does', async () => {
    const extra = withValue(withValue(workerHeartbeat, 'gpu_fan', 40), 'extra', { nested: true });
    const response = await echo(WorkerHeartbeat).post(JSON.stringify(extra));
    expect(await answer(response)).toEqual({ status: 200, body: workerHeartbeat });
    const deep = withValue(discoveryHeartbeat, 'monitor_data.devices.0.fan_rpm', 1200);
    const text = JSON.stringify(deep);
    expect(await answer(await echo(HiveHeartbeat).post(text))).toEqual(expected(HiveHeartbeat, text));
  });

  it.each<[string, unknown]>([
    ['an empty id', withValue(discoveryHeartbeat, 'hive_id', '')],
    [
      'a wrong timestamp and a negative uptime',
      withValue(withValue(periodicHeartbeat, 'timestamp', 'now'), 'monitor_data.uptime_seconds', -1),
    ],
    ['an ftp hive URL', withValue(discoveryHeartbeat, 'hive_url', 'ftp://10.0.0.1/')],
    ['an unknown device type', withValue(discoveryHeartbeat, 'capabilities.devices.0.device_type', 'tpu')],
    [
      '65 monitored devices',
      withValue(
        periodicHeartbeat,
        'monitor_data.devices',
        times(65, (i) => ({ device_id: `d${i}`, vram_used_gb: 0, vram_total_gb: 1 })),
      ),
    ],
    ['a null model', withValue(discoveryHeartbeat, 'capabilities.models.1', null)],
    ['an unknown change action', withValue(changesHeartbeat, 'capability_changes.models.0.action', 'renamed')],
    ['no monitor data', withValue(periodicHeartbeat, 'monitor_data', undefined)],
    ['an array', []],
    ['null', null],
    ['a string', 'heartbeat'],
  ])(
    'answers 400 with the issues the schema itself reports for %s, and never calls the handler',
    async (_label, value) => {
      const app = echo(HiveHeartbeat);
      const text = JSON.stringify(value);
      const want = expected(HiveHeartbeat, text);
      expect(want.status).toBe(400);
      expect(await answer(await app.post(text))).toEqual(want);
      expect(app.handled()).toBe(0);
    },
  );

  it('agrees with the schema on 2 000 seeded random corruptions of the example heartbeats', async () => {
    const random = mulberry32(2026);
    const replacements: unknown[] = [
      undefined,
      null,
      '',
      'x'.repeat(2_000),
      -1,
      1.5,
      1e300,
      70_000,
      true,
      [],
      {},
      'ready',
      'GPU-0',
      '2025-10-30T14:52:00.000+02:00',
      'https://hive:7835',
    ];
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const cases: [z.ZodType, unknown][] = [
      [HiveHeartbeat, discoveryHeartbeat],
      [HiveHeartbeat, changesHeartbeat],
      [WorkerHeartbeat, workerHeartbeat],
    ];
    const apps = new Map(cases.map(([schema]) => [schema, echo(schema)]));
    let rejected = 0;
    for (let round = 0; round < 2_000; round++) {
      const [schema, base] = pick(cases);
      let value: unknown = base;
      for (let edits = 1 + Math.floor(random() * 3); edits > 0; edits--)
        value = withValue(value, pick(pathsOf(value)), pick(replacements));
      const text = JSON.stringify(value);
      const want = expected(schema, text);
      if (want.status === 400) rejected++;
      const app = apps.get(schema);
      if (!app) throw new Error('no app for the schema');
      expect(await answer(await app.post(text)), text).toEqual(want);
    }
    // Both verdicts occur often enough for the agreement to mean something.
    expect(rejected).toBeGreaterThan(1_000);
    expect(rejected).toBeLessThan(2_000);
  });

  it('answers 400 at the root path to a body that is not JSON', async () => {
    const app = echo(WorkerHeartbeat);
    const response = await app.post('{"worker_id": ');
    expect(response.status).toBe(400);
    const error = ErrorBody.parse(await response.json());
    expect(error.error).toBe('The payload is not valid JSON.');
    expect(error.issues?.map((issue) => issue.path)).toEqual(['']);
    expect(app.handled()).toBe(0);
  });

  it.each([null, 'text/plain', 'application/x-www-form-urlencoded', 'application/jsonp'])(
    'answers 415 to a body sent as %s',
    async (contentType) => {
      const app = echo(WorkerHeartbeat);
      const response = await app.post(JSON.stringify(workerHeartbeat), contentType);
      expect(response.status).toBe(415);
      expect(ErrorBody.parse(await response.json()).error).toBe('The payload must be sent as application/json.');
      expect(app.handled()).toBe(0);
    },
  );

  it('takes a body without a content-type as JSON when told to, still refusing a declared other type', async () => {
    const app = echo(WorkerHeartbeat, { untypedIsJson: true });
    const untyped = await app.post(JSON.stringify(workerHeartbeat), null);
    expect(await answer(untyped)).toEqual({ status: 200, body: workerHeartbeat });
    expect((await app.post(JSON.stringify(workerHeartbeat), 'text/plain')).status).toBe(415);
    expect(app.handled()).toBe(1);
  });
});

describe('isJson', () => {
  it.each([
    ['application/json', true],
    ['Application/JSON; charset=utf-8', true],
    ['application/vnd.apiary+json', true],
    [' application/json ;charset=utf-8', true],
    ['text/json', false],
    ['application/jsonp', false],
    ['', false],
    [undefined, false],
  ])('%s → %s', (contentType, json) => {
    expect(isJson(contentType)).toBe(json);
  });
});

/** Every dotted path inside `value`, objects' keys and arrays' indexes alike. */
function pathsOf(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [];
  const paths: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    paths.push(path, ...pathsOf(child, path));
  }
  return paths;
}

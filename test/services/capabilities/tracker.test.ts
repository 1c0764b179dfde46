import { appendFile, mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { Capabilities, type CapabilityChanges, type Device, type WorkerType } from '../../../contracts/capabilities.js';
import { CapabilitySet, capabilityExcess, measureSet } from '../../../machines/capability-set.js';
import { type CapabilityTracker, createCapabilityTracker } from '../../../services/capabilities/tracker.js';
import { createLogger } from '../../../services/logger.js';

const DEVICES: Device[] = [
  { id: 'GPU-0', name: 'NVIDIA L4', device_type: 'gpu', vram_gb: 22.5, compute_capability: '8.9' },
  { id: 'CPU-0', name: 'Test CPU', device_type: 'cpu' },
];
const BUILT_IN: WorkerType[] = [
  { worker_type: 'cpu', version: '0.1.0' },
  { worker_type: 'cuda', version: '0.1.0' },
];
const GIB = 1024 ** 3;
const WAIT = { timeout: 2_000, interval: 10 };
const SETTLE_WAIT = { timeout: 6_000, interval: 10 };

let root: string;
let modelsDir: string;
let workersDir: string;
let tracker: CapabilityTracker | undefined;
let batches: number[];
const LogLine = z.object({ level: z.string(), msg: z.string(), path: z.string().optional() });

let warnings: z.infer<typeof LogLine>[];

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'apiary-capabilities-'));
  modelsDir = path.join(root, 'models');
  workersDir = path.join(root, 'workers');
  await mkdir(modelsDir);
  await mkdir(workersDir);
  batches = [];
  warnings = [];
});

afterEach(async () => {
  tracker?.stop();
  tracker = undefined;
  await rm(root, { recursive: true, force: true });
});

async function start(
  dirs: { modelsDir?: string; workersDir?: string } = {},
  settleMs = 100,
): Promise<CapabilityTracker> {
  const logger = createLogger({
    level: 'warn',
    write: (line) => {
      const entry = LogLine.parse(JSON.parse(line));
      if (entry.level === 'warn') warnings.push(entry);
    },
  });
  const created = createCapabilityTracker({
    modelsDir,
    workersDir,
    ...dirs,
    devices: DEVICES,
    builtInWorkers: BUILT_IN,
    debounceMs: 50,
    settleMs,
    logger,
  });
  tracker = created;
  created.onChange((version) => batches.push(version));
  await created.start();
  return created;
}

async function model(relative: string, bytes: number, dir = modelsDir): Promise<void> {
  await mkdir(path.dirname(path.join(dir, relative)), { recursive: true });
  await writeFile(path.join(dir, relative), Buffer.alloc(bytes));
}

function modelsOnly(changes: CapabilityChanges['models']): CapabilityChanges {
  return { models: changes, workers: [] };
}

describe('createCapabilityTracker', () => {
  it('starts with the full set at version 0 and nothing pending', async () => {
    await model('llama/7b/q4.gguf', 1024);
    await model('phi.safetensors', 2048);
    await model('README.md', 10);
    await writeFile(path.join(workersDir, 'vllm.json'), '{"worker_type": "vllm", "version": "0.6.0"}');
    const t = await start();
    expect(t.current()).toEqual({
      devices: DEVICES,
      models: [
        { model_id: 'llama/7b/q4', size_gb: 1024 / GIB },
        { model_id: 'phi', size_gb: 2048 / GIB },
      ],
      workers: [...BUILT_IN, { worker_type: 'vllm', version: '0.6.0' }],
    });
    expect(Capabilities.parse(t.current())).toEqual(t.current());
    expect(t.version()).toBe(0);
    expect(t.pending()).toBeNull();
  });

  it('turns an added file into exactly one added change with its size', async () => {
    const t = await start();
    await model('mistral.gguf', 4096);
    await vi.waitFor(() => expect(t.version()).toBe(1), WAIT);
    expect(batches).toEqual([1]);
    expect(t.pending()).toEqual(modelsOnly([{ action: 'added', model_id: 'mistral', size_gb: 4096 / GIB }]));
    expect(t.current().models).toEqual([{ model_id: 'mistral', size_gb: 4096 / GIB }]);
  });

  it('turns a removed file into exactly one removed change', async () => {
    await model('phi.bin', 100);
    const t = await start();
    await unlink(path.join(modelsDir, 'phi.bin'));
    await vi.waitFor(() => expect(t.version()).toBe(1), WAIT);
    expect(batches).toEqual([1]);
    expect(t.pending()).toEqual(modelsOnly([{ action: 'removed', model_id: 'phi', size_gb: 100 / GIB }]));
    expect(t.current().models).toEqual([]);
  });

  it('turns a rename into one removed and one added', async () => {
    await model('old-name.onnx', 300);
    const t = await start();
    await rename(path.join(modelsDir, 'old-name.onnx'), path.join(modelsDir, 'new-name.onnx'));
    await vi.waitFor(() => expect(t.current().models).toEqual([{ model_id: 'new-name', size_gb: 300 / GIB }]), WAIT);
    expect(t.pending()).toEqual(
      modelsOnly([
        { action: 'removed', model_id: 'old-name', size_gb: 300 / GIB },
        { action: 'added', model_id: 'new-name', size_gb: 300 / GIB },
      ]),
    );
    expect(t.version()).toBe(batches.length);
  });

  it('settles a file still being written into one added with its final size', async () => {
    const t = await start();
    const file = path.join(modelsDir, 'big.gguf');
    const chunk = Buffer.alloc(64 * 1024);
    await writeFile(file, chunk);
    // Gaps longer than the debounce: rescans run between writes and must see the size still changing.
    for (let i = 1; i < 6; i++) {
      await new Promise((resolve) => setTimeout(resolve, 70));
      await appendFile(file, chunk);
    }
    await vi.waitFor(() => expect(t.version()).toBe(1), WAIT);
    expect(batches).toEqual([1]);
    expect(t.pending()).toEqual(modelsOnly([{ action: 'added', model_id: 'big', size_gb: (6 * chunk.length) / GIB }]));
  });

  it('announces a copy that pauses longer than the debounce exactly once, with its final size', async () => {
    const t = await start({}, 1_500);
    const file = path.join(modelsDir, 'copied.gguf');
    const chunk = Buffer.alloc(64 * 1024);
    const grown = (chunks: number) => [
      { action: 'added' as const, model_id: 'copied', size_gb: (chunks * chunk.length) / GIB },
    ];
    await writeFile(file, chunk);
    // Each pause lets several rescans see the same size; only a pause of the settle time makes the file count.
    for (let i = 1; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      await appendFile(file, chunk);
    }
    await vi.waitFor(() => expect(t.version()).toBe(1), SETTLE_WAIT);
    expect(t.pending()).toEqual(modelsOnly(grown(4)));
    await appendFile(file, chunk);
    await vi.waitFor(() => expect(t.version()).toBe(2), SETTLE_WAIT);
    expect(batches).toEqual([1, 2]);
    expect(t.pending()).toEqual(modelsOnly(grown(5)));
  });

  it('publishes a GPU that left or came back as a device change', async () => {
    const t = await start();
    const [gpu, cpu] = DEVICES;
    if (!gpu || !cpu) throw new Error('DEVICES has a GPU and a CPU');
    t.setDevices([cpu]);
    expect(batches).toEqual([1]);
    expect(t.current().devices).toEqual([cpu]);
    expect(t.pending()).toEqual({ devices: [{ action: 'removed', ...gpu }], models: [], workers: [] });
    t.acknowledge(1);
    t.setDevices(DEVICES);
    t.setDevices(DEVICES);
    expect(batches).toEqual([1, 2]);
    expect(t.pending()).toEqual({ devices: [{ action: 'added', ...gpu }], models: [], workers: [] });
    // A rescan after it keeps the devices.
    await model('later.gguf', 10);
    await vi.waitFor(() => expect(t.version()).toBe(3), WAIT);
    expect(t.current().devices).toEqual(DEVICES);
  });

  it('sees models in a directory made after start, with / in their ids', async () => {
    const t = await start();
    await model('org/family/q8.gguf', 10);
    await vi.waitFor(
      () => expect(t.current().models).toEqual([{ model_id: 'org/family/q8', size_gb: 10 / GIB }]),
      WAIT,
    );
    await model('org/family/q4.gguf', 5);
    await vi.waitFor(() => expect(t.current().models).toHaveLength(2), WAIT);
    expect(t.pending()?.models.map(({ action, model_id }) => `${action} ${model_id}`)).toEqual([
      'added org/family/q4',
      'added org/family/q8',
    ]);
  });

  it('finds nothing in missing directories, then sees them when they appear', async () => {
    const t = await start({ modelsDir: path.join(root, 'later/models'), workersDir: path.join(root, 'later/workers') });
    expect(t.current().models).toEqual([]);
    expect(t.current().workers).toEqual(BUILT_IN);
    await model('tiny.gguf', 7, path.join(root, 'later/models'));
    await vi.waitFor(() => expect(t.current().models).toEqual([{ model_id: 'tiny', size_gb: 7 / GIB }]), WAIT);
    await mkdir(path.join(root, 'later/workers'));
    await writeFile(path.join(root, 'later/workers/vllm.json'), '{"worker_type": "vllm", "version": "1.0.0"}');
    await vi.waitFor(() => expect(t.current().workers).toHaveLength(3), WAIT);
  });

  it('empties when the models directory is deleted, and fills again when it comes back', async () => {
    await model('phi.gguf', 3);
    const t = await start();
    await rm(modelsDir, { recursive: true });
    await vi.waitFor(() => expect(t.current().models).toEqual([]), WAIT);
    await model('phi.gguf', 3);
    await vi.waitFor(() => expect(t.current().models).toEqual([{ model_id: 'phi', size_gb: 3 / GIB }]), WAIT);
    expect(t.pending()).toEqual({ models: [], workers: [] });
  });

  it('turns manifests added, changed and removed into worker changes; a manifest replaces a built-in', async () => {
    const t = await start();
    const manifest = path.join(workersDir, 'vllm.json');
    await writeFile(manifest, '{"worker_type": "vllm", "version": "0.6.0"}');
    await vi.waitFor(() => expect(t.version()).toBe(1), WAIT);
    expect(t.pending()).toEqual({ models: [], workers: [{ action: 'added', worker_type: 'vllm', version: '0.6.0' }] });
    t.acknowledge(1);

    await writeFile(path.join(workersDir, 'cpu.json'), '{"worker_type": "cpu", "version": "9.9.9"}');
    await vi.waitFor(() => expect(t.version()).toBe(2), WAIT);
    expect(t.pending()?.workers).toEqual([{ action: 'added', worker_type: 'cpu', version: '9.9.9' }]);
    t.acknowledge(2);

    await unlink(path.join(workersDir, 'cpu.json'));
    await unlink(manifest);
    await vi.waitFor(() => expect(t.current().workers).toEqual(BUILT_IN), WAIT);
    expect(t.pending()?.workers).toEqual([
      { action: 'removed', worker_type: 'vllm', version: '0.6.0' },
      { action: 'added', worker_type: 'cpu', version: '0.1.0' },
    ]);
  });

  it('skips garbage and logs each bad file once, never failing', async () => {
    await writeFile(path.join(workersDir, 'broken.json'), '{"worker_type": ');
    await writeFile(path.join(workersDir, 'wrong.json'), '{"kind": "cuda"}');
    await writeFile(path.join(workersDir, 'notes.txt'), 'not a manifest');
    await symlink(path.join(root, 'nowhere'), path.join(modelsDir, 'dangling.gguf'));
    await model('partial.gguf.part', 10);
    await model('good.gguf', 10);
    const t = await start();
    expect(t.current().models).toEqual([{ model_id: 'good', size_gb: 10 / GIB }]);
    expect(t.current().workers).toEqual(BUILT_IN);
    const bad = ['broken.json', 'dangling.gguf', 'wrong.json'];
    expect(warnings.map((w) => path.basename(w.path ?? '')).sort()).toEqual(bad);

    // More rescans, the bad files still there: no more lines about them.
    await model('second.gguf', 10);
    await vi.waitFor(() => expect(t.version()).toBe(1), WAIT);
    await writeFile(path.join(workersDir, 'late-garbage.json'), '[]');
    await model('third.gguf', 10);
    await vi.waitFor(() => expect(t.version()).toBe(2), WAIT);
    await vi.waitFor(() => expect(warnings).toHaveLength(4), WAIT);
    expect(path.basename(warnings[3]?.path ?? '')).toBe('late-garbage.json');
  });

  it('cuts a models directory too large for a queen to fit its bound, saying so once, also as it grows', async () => {
    await model('first.gguf', 10);
    const t = await start();
    const held = new CapabilitySet(t.current());
    // 1 400 files of 120-character names: about 208 KB of capabilities, more than a queen takes from one hive.
    const names = Array.from({ length: 1_400 }, (_, i) => `${String(i).padStart(6, '0')}-${'x'.repeat(113)}.gguf`);
    await Promise.all(names.map((name) => model(name, 0)));
    // A loaded machine may settle on part of the files first: wait for the whole directory, cut.
    const ids = [...names.map((name) => name.slice(0, -'.gguf'.length)), 'first'];
    await vi.waitFor(() => {
      const listed = t.current().models.map(({ model_id }) => model_id);
      expect(listed.length).toBeGreaterThan(1_000);
      expect(listed).toEqual(ids.slice(0, listed.length));
    }, SETTLE_WAIT);
    expect(t.current().models.length).toBeLessThan(names.length + 1);
    expect(t.current().workers).toEqual(BUILT_IN);
    expect(t.current().devices).toEqual(DEVICES);
    // What the queen checks: the full set, and the pending change on top of what it held, are within its bound.
    expect(capabilityExcess(measureSet(t.current()))).toBeNull();
    const pending = t.pending();
    if (pending === null) throw new Error('the new models are pending');
    expect(capabilityExcess(held.measure(pending))).toBeNull();
    expect(warnings.map(({ msg }) => msg)).toEqual(['capabilities cut to fit what a queen takes from one hive']);

    // A hive started on the same directory sends the same set, and says so once more.
    tracker?.stop();
    const again = await start();
    expect(again.current()).toEqual(t.current());
    expect(warnings).toHaveLength(2);
  });

  it('keeps changes pending across a failed send and after the version that was sent', async () => {
    const t = await start();
    await model('a.gguf', 1);
    await vi.waitFor(() => expect(t.version()).toBe(1), WAIT);
    const sent = { version: t.version(), changes: t.pending() };
    // The send failed: nothing acknowledged, the same changes ride the next heartbeat.
    expect(t.pending()).toEqual(sent.changes);

    await model('b.gguf', 2);
    await vi.waitFor(() => expect(t.version()).toBe(2), WAIT);
    expect(t.pending()?.models.map((m) => m.model_id)).toEqual(['a', 'b']);

    t.acknowledge(sent.version);
    expect(t.pending()).toEqual(modelsOnly([{ action: 'added', model_id: 'b', size_gb: 2 / GIB }]));
    t.acknowledge(2);
    expect(t.pending()).toBeNull();
    expect(batches).toEqual([1, 2]);
  });

  it('nets out a file added and removed before the queen heard of it', async () => {
    const t = await start();
    await model('fleeting.gguf', 1);
    await vi.waitFor(() => expect(t.version()).toBe(1), WAIT);
    await unlink(path.join(modelsDir, 'fleeting.gguf'));
    await vi.waitFor(() => expect(t.version()).toBe(2), WAIT);
    expect(t.pending()).toEqual({ models: [], workers: [] });
  });

  it('stops watching when stopped', async () => {
    const t = await start();
    const unsubscribe = t.onChange(() => batches.push(-1));
    unsubscribe();
    await model('first.gguf', 1);
    await vi.waitFor(() => expect(batches).toEqual([1]), WAIT);
    t.stop();
    await model('after-stop.gguf', 1);
    // Proving a negative: four debounce periods, in which a running tracker would have rescanned twice.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(t.current().models.map((m) => m.model_id)).toEqual(['first']);
    expect(t.version()).toBe(1);
  });
});

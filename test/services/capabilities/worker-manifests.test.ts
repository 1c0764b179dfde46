import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ScannedFile } from '../../../services/capabilities/directory-scan.js';
import { isManifestFile, readManifest } from '../../../services/capabilities/worker-manifests.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'apiary-manifests-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function manifest(name: string, content: string): Promise<ScannedFile> {
  const file = path.join(dir, name);
  await writeFile(file, content);
  return { path: file, relative: name, size: (await stat(file)).size, signature: 's' };
}

describe('worker manifests', () => {
  it('are the .json files', () => {
    expect(isManifestFile('cuda.json')).toBe(true);
    expect(isManifestFile('cuda.json.bak')).toBe(false);
    expect(isManifestFile('notes.txt')).toBe(false);
  });

  it('read a worker type and its version, dropping anything else', async () => {
    const file = await manifest('cuda.json', '{"worker_type": "cuda", "version": "0.2.0", "extra": true}');
    expect(await readManifest(file)).toEqual({ worker_type: 'cuda', version: '0.2.0', engine: null });
  });

  it('read an engine manifest with its defaults, the ready timeout in milliseconds', async () => {
    const file = await manifest(
      'llama.json',
      JSON.stringify({
        worker_type: 'llama-server',
        version: 'b6000',
        engine: 'llama.cpp',
        command: [process.execPath, '-m', '{model_path}', '--port', '{engine_port}'],
        env: { CUDA_VISIBLE_DEVICES: '{device_index}' },
        ready_timeout: '2m',
      }),
    );
    expect(await readManifest(file)).toEqual({
      worker_type: 'llama-server',
      version: 'b6000',
      engine: {
        engine: 'llama.cpp',
        command: [process.execPath, '-m', '{model_path}', '--port', '{engine_port}'],
        env: { CUDA_VISIBLE_DEVICES: '{device_index}' },
        health_path: '/health',
        ready_timeout: 120_000,
      },
    });
  });

  it('list an engine manifest with a bad command, field or placeholder as a problem, never as a type', async () => {
    const base = { worker_type: 'x', version: '1', engine: 'vllm' };
    const cases: [object, RegExp][] = [
      [{ ...base, command: ['no-such-engine-binary-xyz', '--port', '{engine_port}'] }, /not found on PATH/],
      [{ ...base, command: [process.execPath, '--port', '{port}'] }, /unknown placeholder \{port\}/],
      [{ ...base, command: ['{model_path}'] }, /command\[0\] must name the program/],
      [{ ...base, command: [] }, /command/],
      [{ ...base, engine: 'tgi', command: [process.execPath] }, /engine/],
      [{ ...base, command: [process.execPath], comand: ['typo'] }, /comand/],
      [{ worker_type: 'x', version: '1', command: [process.execPath] }, /engine/],
    ];
    for (const [json, problem] of cases) {
      const file = await manifest('bad.json', JSON.stringify(json));
      expect(await readManifest(file), JSON.stringify(json)).toMatchObject({ problem: expect.stringMatching(problem) });
    }
  });

  it('say why a file is not a manifest', async () => {
    const broken = await manifest('broken.json', '{"worker_type": ');
    expect(await readManifest(broken)).toMatchObject({ path: broken.path, problem: expect.stringMatching(/JSON/) });
    const wrong = await manifest('wrong.json', '{"worker_type": "", "version": 2}');
    expect(await readManifest(wrong)).toMatchObject({
      path: wrong.path,
      problem: expect.stringMatching(/^not a worker manifest \(worker_type: .*; version: .*\)$/),
    });
    const huge = await manifest('huge.json', ' '.repeat(70 * 1024));
    expect(await readManifest(huge)).toEqual({ path: huge.path, problem: 'larger than 65536 bytes' });
  });
});

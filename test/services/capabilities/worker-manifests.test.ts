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
    expect(await readManifest(file)).toEqual({ worker_type: 'cuda', version: '0.2.0' });
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

import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scanDirectory } from '../../../services/capabilities/directory-scan.js';
import { isModelFile } from '../../../services/capabilities/models.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'apiary-scan-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(relative: string, bytes: number): Promise<void> {
  await mkdir(path.dirname(path.join(dir, relative)), { recursive: true });
  await writeFile(path.join(dir, relative), Buffer.alloc(bytes));
}

describe('scanDirectory', () => {
  it('walks the tree for accepted regular files, relative paths with /', async () => {
    await file('top.gguf', 10);
    await file('llama/7b/q4.gguf', 20);
    await file('llama/notes.txt', 5);
    const scan = await scanDirectory(dir, { recursive: true, accept: isModelFile });
    expect(scan.exists).toBe(true);
    expect(scan.files.map(({ relative, size }) => ({ relative, size })).sort((a, b) => a.size - b.size)).toEqual([
      { relative: 'top.gguf', size: 10 },
      { relative: 'llama/7b/q4.gguf', size: 20 },
    ]);
    expect(scan.directories).toEqual([dir, path.join(dir, 'llama'), path.join(dir, 'llama/7b')]);
    expect(scan.problems).toEqual([]);
  });

  it('stays at the top when not recursive', async () => {
    await file('a.gguf', 1);
    await file('sub/b.gguf', 1);
    const scan = await scanDirectory(dir, { recursive: false, accept: isModelFile });
    expect(scan.files.map((f) => f.relative)).toEqual(['a.gguf']);
    expect(scan.directories).toEqual([dir]);
  });

  it('follows links to files, not to directories, and reports what it cannot use', async () => {
    await file('blobs/abc123', 30);
    await symlink(path.join(dir, 'blobs/abc123'), path.join(dir, 'linked.safetensors'));
    await symlink(path.join(dir, 'gone'), path.join(dir, 'dangling.gguf'));
    await symlink(path.join(dir, 'blobs'), path.join(dir, 'loop'));
    execFileSync('mkfifo', [path.join(dir, 'pipe.bin')]);
    const scan = await scanDirectory(dir, { recursive: true, accept: isModelFile });
    expect(scan.files.map(({ relative, size }) => ({ relative, size }))).toEqual([
      { relative: 'linked.safetensors', size: 30 },
    ]);
    expect(scan.problems.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: path.join(dir, 'dangling.gguf'), problem: expect.stringMatching(/ENOENT/) },
      { path: path.join(dir, 'pipe.bin'), problem: 'not a regular file' },
    ]);
    expect(scan.directories).toEqual([dir, path.join(dir, 'blobs')]);
  });

  it('finds nothing in a missing directory or a file', async () => {
    await file('plain', 1);
    for (const root of [path.join(dir, 'missing'), path.join(dir, 'plain')]) {
      expect(await scanDirectory(root, { recursive: true, accept: () => true })).toEqual({
        exists: false,
        files: [],
        directories: [],
        problems: [],
      });
    }
  });

  it('gives a file a new signature when it is written', async () => {
    await file('a.bin', 10);
    const first = await scanDirectory(dir, { recursive: true, accept: isModelFile });
    const same = await scanDirectory(dir, { recursive: true, accept: isModelFile });
    await writeFile(path.join(dir, 'a.bin'), Buffer.alloc(11));
    const grown = await scanDirectory(dir, { recursive: true, accept: isModelFile });
    expect(same.files[0]?.signature).toBe(first.files[0]?.signature);
    expect(grown.files[0]?.signature).not.toBe(first.files[0]?.signature);
  });
});

import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hiveTargets, readHiveTargets } from '../../../services/discovery/targets.js';

const SENTINEL = path.join(os.tmpdir(), `apiary-match-exec-${process.pid}-${Date.now()}`);

const CONFIG = `
# the GPU machines
Host gpu-1
  HostName 10.0.0.11
  User ops

Host gpu-2 gpu-2-alias
    hostname 10.0.0.12

Host gpu-1-again
  HostName 10.0.0.11

Host *.lab gpu-?
  User lab

Host *
  ServerAliveInterval 30

Host bastion
  User jump

Match host gpu-3 exec "touch ${SENTINEL}"
  HostName 10.0.0.13

Host gpu-4
  HostName=%h.lab.example
`;

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('hive targets from an SSH config', () => {
  it('takes Host aliases with a HostName, one per distinct HostName, skipping wildcards, Match and host-less ones', () => {
    expect(hiveTargets(CONFIG)).toEqual([
      { alias: 'gpu-1', hostName: '10.0.0.11' },
      { alias: 'gpu-2', hostName: '10.0.0.12' },
      { alias: 'gpu-4', hostName: 'gpu-4.lab.example' },
    ]);
    expect(existsSync(SENTINEL)).toBe(false);
  });

  it('reads the file, and treats a missing one as nothing to discover', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'apiary-targets-'));
    const file = path.join(dir, 'config');
    await writeFile(file, CONFIG);
    expect(await readHiveTargets(file)).toHaveLength(3);
    expect(await readHiveTargets(path.join(dir, 'missing'))).toEqual([]);
  });
});

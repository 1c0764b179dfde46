import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DB_FILE } from '../../services/store/sqlite-store.js';
import { killAll, roleScript, startRole, withoutApiaryEnv } from '../support/role-process.js';

/** A state directory the queen cannot use stops it with exit 1 and one line naming the problem, never a stack. */

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'apiary-queen-state-'));
  // Readable by the unprivileged user the read-only case runs as when the tests run as root.
  chmodSync(dir, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => killAll());

interface Exit {
  code: number | null;
  stderr: string;
}

/** Runs a queen on `stateDir` until it exits (it must, within the deadline). */
function runQueen(stateDir: string, user?: { uid: number; gid: number }): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [roleScript('queen'), '--port', '0', '--no-discovery', '--state-dir', stateDir],
      {
        env: withoutApiaryEnv(process.env),
        stdio: ['ignore', 'ignore', 'pipe'],
        ...(user ?? {}),
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the queen did not exit: ${stderr}`));
    }, 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

function expectOneLine(exit: Exit, says: string): void {
  expect(exit.code).toBe(1);
  const lines = exit.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(says);
  expect(exit.stderr).not.toMatch(/\n\s+at /);
}

describe('queen state directory', () => {
  it('refuses a corrupt database', async () => {
    const stateDir = path.join(dir, 'corrupt');
    mkdirSync(stateDir);
    writeFileSync(path.join(stateDir, DB_FILE), 'this is not an SQLite database, whatever it once was'.repeat(100));
    expectOneLine(await runQueen(stateDir), 'not a valid database');
  });

  it('refuses a second queen on the same directory while the first runs', async () => {
    const stateDir = path.join(dir, 'shared');
    const first = await startRole('queen', ['--port', '0', '--no-discovery', '--state-dir', stateDir]);
    expectOneLine(await runQueen(stateDir), 'locked by another process');
    expect(first.child.exitCode).toBeNull();
  });

  it('refuses a directory it cannot write', async () => {
    const stateDir = path.join(dir, 'read-only');
    mkdirSync(stateDir);
    chmodSync(stateDir, 0o555);
    // Root writes anywhere: run as nobody then, for whom the mode holds.
    const nobody = process.getuid?.() === 0 ? { uid: 65_534, gid: 65_534 } : undefined;
    expectOneLine(await runQueen(stateDir, nobody), 'cannot be written');
  });
});

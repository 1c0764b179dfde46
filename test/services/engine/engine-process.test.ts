import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startEngineProcess } from '../../../services/engine/engine-process.js';
import { isRunning } from '../../support/process-tree.js';
import { eventually, killAll, track } from '../../support/role-process.js';

/** Real processes standing in for an engine: one that leaves on SIGTERM, one that ignores it and has a child. */

const dir = mkdtempSync(path.join(os.tmpdir(), 'apiary-engine-process-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => killAll());

const STOP_TIMEOUT_MS = 300;

/** Ignores SIGTERM, starts a child that ignores it too, then writes both pids to `file`: only SIGKILL ends them. */
function stubbornEngine(file: string): string[] {
  const ignoring = "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000);";
  const script = [
    "const { spawn } = require('node:child_process');",
    "const { writeFileSync } = require('node:fs');",
    ignoring,
    `const child = spawn(process.execPath, ['-e', ${JSON.stringify(ignoring)}], { stdio: 'ignore' });`,
    // The child's handler is in place once it has run a moment; its pid is written only then.
    `setTimeout(() => writeFileSync(${JSON.stringify(file)}, JSON.stringify([process.pid, child.pid])), 300);`,
  ].join('\n');
  return [process.execPath, '-e', script];
}

function exitOf() {
  let resolve: (exit: { code: number | null; signal: string | null; lastLine: string | null }) => void = () => {};
  const promise = new Promise<{ code: number | null; signal: string | null; lastLine: string | null }>((r) => {
    resolve = r;
  });
  return { promise, onExit: resolve };
}

describe('engine process', () => {
  it('is stopped with SIGTERM, its group guarded once it runs, its last stderr line kept', async () => {
    const file = path.join(dir, 'polite.json');
    const guarded: number[] = [];
    const exit = exitOf();
    const script = [
      "process.on('SIGTERM', () => process.exit(3));",
      "console.error('loading model');",
      `require('node:fs').writeFileSync(${JSON.stringify(file)}, '[]');`,
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const engine = startEngineProcess({
      command: [process.execPath, '-e', script],
      env: {},
      stopTimeoutMs: 10_000,
      guard: (group) => guarded.push(group),
      onExit: exit.onExit,
    });
    track(engine.pid ?? 0);
    expect(guarded).toEqual([engine.pid]);
    await eventually(() => (existsSync(file) ? true : undefined), 'the engine running');

    await engine.stop();
    // Exit code 3 is its SIGTERM handler's: it was asked, not killed.
    expect(await exit.promise).toEqual({ code: 3, signal: null, lastLine: 'loading model' });
  });

  it('is killed with SIGKILL after the stop timeout when it ignores SIGTERM, its own children with it', async () => {
    const file = path.join(dir, 'stubborn.json');
    const exit = exitOf();
    const engine = startEngineProcess({
      command: stubbornEngine(file),
      env: {},
      stopTimeoutMs: STOP_TIMEOUT_MS,
      guard: () => {},
      onExit: exit.onExit,
    });
    const [pid = 0, childPid = 0] = await eventually(
      () => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as number[]) : undefined),
      'the engine and its child running',
    );
    track(pid);
    track(childPid);
    expect(pid).toBe(engine.pid);

    const stopping = performance.now();
    await engine.stop();
    expect(performance.now() - stopping).toBeGreaterThanOrEqual(STOP_TIMEOUT_MS - 5);
    expect((await exit.promise).signal).toBe('SIGKILL');
    await eventually(() => (isRunning(childPid) ? undefined : true), "the engine's child gone");
  });

  it('reports a program that cannot be started as an exit with the reason', async () => {
    const exit = exitOf();
    const engine = startEngineProcess({
      command: [path.join(dir, 'no-such-engine')],
      env: {},
      stopTimeoutMs: STOP_TIMEOUT_MS,
      guard: () => {},
      onExit: exit.onExit,
    });
    expect((await exit.promise).lastLine).toMatch(/ENOENT/);
    await engine.stop();
  });
});

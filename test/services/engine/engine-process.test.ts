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

/**
 * A leader with a child that ignores SIGTERM. Once the child says its handler is in place (a timer would not do on a
 * loaded machine, where a node process may take seconds to start), the leader writes both pids to `file`. The leader
 * itself ignores SIGTERM (`stubborn`: only SIGKILL ends them), leaves on it (exit 0), or crashes at once (exit 7).
 */
function engineWithChild(file: string, leader: 'stubborn' | 'leaves on SIGTERM' | 'crashes'): string[] {
  const child = "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000);";
  const script = [
    "const { spawn } = require('node:child_process');",
    "const { writeFileSync } = require('node:fs');",
    `process.on('SIGTERM', () => ${leader === 'stubborn' ? '{}' : 'process.exit(0)'});`,
    'setInterval(() => {}, 1000);',
    `const child = spawn(process.execPath, ['-e', ${JSON.stringify(child)}], { stdio: ['ignore', 'pipe', 'ignore'] });`,
    'child.stdout.once("data", () => {',
    `  writeFileSync(${JSON.stringify(file)}, JSON.stringify([process.pid, child.pid]));`,
    leader === 'crashes' ? '  process.exit(7);' : '',
    '});',
  ].join('\n');
  return [process.execPath, '-e', script];
}

/** `command` as an engine with the short grace, its exit and the groups it had the watchdog forget recorded. */
function started(command: string[]) {
  const exit = exitOf();
  const forgotten: number[] = [];
  const engine = startEngineProcess({
    command,
    env: {},
    stopTimeoutMs: STOP_TIMEOUT_MS,
    guard: () => {},
    forget: (group) => forgotten.push(group),
    onExit: exit.onExit,
  });
  return { engine, exit: exit.promise, forgotten };
}

function pidsIn(file: string): Promise<number[]> {
  return eventually(
    () => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as number[]) : undefined),
    'the engine and its child running',
  );
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
      forget: () => {},
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
    const { engine, exit } = started(engineWithChild(path.join(dir, 'stubborn.json'), 'stubborn'));
    const [pid = 0, childPid = 0] = await pidsIn(path.join(dir, 'stubborn.json'));
    track(pid);
    track(childPid);
    expect(pid).toBe(engine.pid);

    const stopping = performance.now();
    await engine.stop();
    expect(performance.now() - stopping).toBeGreaterThanOrEqual(STOP_TIMEOUT_MS - 5);
    expect((await exit).signal).toBe('SIGKILL');
    await eventually(() => (isRunning(childPid) ? undefined : true), "the engine's child gone");
  });

  it('kills a child that ignores SIGTERM after the grace though its leader left at once, then forgets the group', async () => {
    const file = path.join(dir, 'orphaning.json');
    const { engine, exit, forgotten } = started(engineWithChild(file, 'leaves on SIGTERM'));
    const [pid = 0, childPid = 0] = await pidsIn(file);
    track(pid);
    track(childPid);

    const stopping = performance.now();
    await engine.stop();
    expect(performance.now() - stopping).toBeGreaterThanOrEqual(STOP_TIMEOUT_MS - 5);
    // The leader left on SIGTERM (exit code 0), the child only to the SIGKILL after the grace.
    expect(await exit).toMatchObject({ code: 0, signal: null });
    await eventually(() => (isRunning(childPid) ? undefined : true), "the leader's child gone");
    expect(forgotten).toEqual([pid]);
  });

  it('takes down what a dead leader left of its group after the grace, then forgets the group', async () => {
    const file = path.join(dir, 'crashing.json');
    const { exit, forgotten } = started(engineWithChild(file, 'crashes'));
    const [pid = 0, childPid = 0] = await pidsIn(file);
    track(childPid);
    expect((await exit).code).toBe(7);
    await eventually(() => (isRunning(childPid) ? undefined : true), "the dead leader's child gone");
    await eventually(() => (forgotten.length > 0 ? true : undefined), 'the group forgotten');
    expect(forgotten).toEqual([pid]);
  });

  it('reports a program that cannot be started as an exit with the reason', async () => {
    const exit = exitOf();
    const engine = startEngineProcess({
      command: [path.join(dir, 'no-such-engine')],
      env: {},
      stopTimeoutMs: STOP_TIMEOUT_MS,
      guard: () => {},
      forget: () => {},
      onExit: exit.onExit,
    });
    expect((await exit.promise).lastLine).toMatch(/ENOENT/);
    await engine.stop();
  });
});

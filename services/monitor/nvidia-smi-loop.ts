import { spawn } from 'node:child_process';
import type { GpuReading } from './gpu-reading.js';
import { nvidiaSmiArgs, parseNvidiaSmi } from './nvidia-smi.js';
import { killTool } from './run-tool.js';

/** A line longer than this is no GPU line: it is dropped rather than buffered without bound. */
const MAX_LINE_CHARS = 4096;
const MAX_STDERR_CHARS = 500;
/** A failing loop is retried after 1, 2, 4 … at most this many periods; one that ran as long, after 1 again. */
const RETRY_MAX_PERIODS = 64;

/** After a loop ended: how many have now failed in a row, and how long to wait before the next. */
export function loopRetry(
  failedBefore: number,
  ranMs: number,
  periodMs: number,
): { failedInARow: number; retryMs: number } {
  const failedInARow = ranMs >= periodMs * RETRY_MAX_PERIODS ? 1 : failedBefore + 1;
  return { failedInARow, retryMs: periodMs * Math.min(2 ** (failedInARow - 1), RETRY_MAX_PERIODS) };
}

/** The arguments of a query `nvidia-smi` repeats every `periodMs` by itself. */
export function nvidiaSmiLoopArgs(withComputeCap: boolean, periodMs: number): string[] {
  return [...nvidiaSmiArgs(withComputeCap), `--loop-ms=${Math.max(1, Math.round(periodMs))}`];
}

export interface SampleFramerOptions {
  /** The GPU indexes of one sample, in the order `nvidia-smi` prints them. */
  indexes: readonly number[];
  withComputeCap: boolean;
  onSample(gpus: GpuReading[]): void;
  /** A GPU line out of the expected order: the set of GPUs changed, so the samples can no longer be told apart. */
  onMismatch(problem: string): void;
}

export interface SampleFramer {
  push(chunk: string): void;
}

/** Cuts a stream of CSV lines into whole samples, one line per expected GPU; lines that are not a GPU are skipped. */
export function createSampleFramer(options: SampleFramerOptions): SampleFramer {
  const { indexes, withComputeCap } = options;
  let partial = '';
  let pending: GpuReading[] = [];
  let broken = false;

  function line(text: string): void {
    const [gpu] = parseNvidiaSmi(text, withComputeCap);
    if (gpu === undefined || broken) return;
    const expected = indexes[pending.length];
    if (gpu.index !== expected) {
      broken = true;
      options.onMismatch(`GPU ${gpu.index} where GPU ${expected ?? '(none)'} was expected: the GPUs changed`);
      return;
    }
    pending.push(gpu);
    if (pending.length === indexes.length) {
      const sample = pending;
      pending = [];
      options.onSample(sample);
    }
  }

  return {
    push(chunk) {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      if (partial.length > MAX_LINE_CHARS) partial = '';
      for (const text of lines) if (text.length <= MAX_LINE_CHARS) line(text);
    },
  };
}

export interface NvidiaSmiLoopOptions {
  /** A name looked up on PATH, or a path. */
  binary: string;
  withComputeCap: boolean;
  periodMs: number;
  /** The GPU indexes a one-shot query found: each sample must list exactly these. */
  indexes: readonly number[];
  onSample(gpus: GpuReading[]): void;
  /** The loop ended by itself (exit, spawn error, changed GPUs); never called after `stop()`. */
  onEnd(reason: string): void;
}

export interface NvidiaSmiLoop {
  /** Kills the process; no callback follows. */
  stop(): void;
}

/** One long-running `nvidia-smi --loop-ms`: no process to start per reading, the costliest part of a one-shot query. */
export function startNvidiaSmiLoop(options: NvidiaSmiLoopOptions): NvidiaSmiLoop {
  let over = false;
  let stderr = '';
  const child = spawn(options.binary, nvidiaSmiLoopArgs(options.withComputeCap, options.periodMs), {
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  });

  function end(reason: string): void {
    if (over) return;
    over = true;
    killTool(child);
    options.onEnd(reason);
  }

  const framer = createSampleFramer({
    indexes: options.indexes,
    withComputeCap: options.withComputeCap,
    onSample: (gpus) => {
      if (!over) options.onSample(gpus);
    },
    onMismatch: end,
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => framer.push(chunk));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-MAX_STDERR_CHARS);
  });
  child.on('error', (error) => end(error.message));
  child.on('close', (code, signal) => {
    const status = signal ? `killed by ${signal}` : `exited with code ${code}`;
    end(stderr.trim() ? `${status}: ${stderr.trim()}` : status);
  });

  return {
    stop() {
      if (over) return;
      over = true;
      killTool(child);
    },
  };
}

import os from 'node:os';
import type { z } from 'zod';
import type { Device } from '../../contracts/capabilities.js';
import { cutText, LIMITS, NonNegative, Percent } from '../../contracts/common.js';
import { DeviceMonitorData, type MonitorData } from '../../contracts/heartbeat.js';
import type { Logger } from '../logger.js';
import { runOnce } from '../run-once.js';
import { type GpuReader, type GpuReading, readProblem } from './gpu-reading.js';
import { type MemoryReading, readCpuLoad, readCpuName, readMemory } from './host-metrics.js';
import { createNvidiaSmiReader } from './nvidia-smi.js';
import { loopRetry, type NvidiaSmiLoop, startNvidiaSmiLoop } from './nvidia-smi-loop.js';
import { timeBox } from './time-box.js';

/** A GPU as capabilities describe it (`GPU-<index>`). */
export type GpuInfo = { index: number } & Pick<Device, 'name' | 'vram_gb' | 'compute_capability'>;

export interface MonitorOptions {
  /**
   * How often to read; readings run in the background, never on a heartbeat's path. GPUs come from one
   * `nvidia-smi --loop-ms` sampling at this period, with a one-shot query a period whenever that loop is down.
   */
  periodMs: number;
  /** The longest any one source may take; a slower one leaves its last reading in place. */
  sourceTimeoutMs: number;
  /** The `nvidia-smi` to run: a name looked up on PATH (default `nvidia-smi`) or a path. */
  nvidiaSmi?: string;
  /** GPUs of other makers (AMD, Apple), read once a period on a machine without `nvidia-smi`. */
  otherGpus?: GpuReader;
  logger: Logger;
  now?: () => Date;
}

export interface Monitor {
  /** Resolves when the first reading is done (each source within its time box). */
  start(): Promise<void>;
  stop(): void;
  /** The last reading, at once; `collected_at` is when its oldest part was read. */
  latest(): MonitorData;
  /** The GPUs of the last successful reading. */
  gpus(): readonly GpuInfo[];
  /** Whether those GPUs are NVIDIA's (which the built-in `cuda` worker type needs). */
  nvidia(): boolean;
  /** Called after a reading whose GPUs differ from the previous one's (one fell off the bus, or came back). */
  onGpusChanged(listener: () => void): () => void;
  /** The CPU's brand as read at start; empty when unknown. */
  cpuName(): string;
}

interface Stamped<T> {
  value: T;
  at: Date;
}

const GIB = 1024 ** 3;
/** `systeminformation` measures its first CPU load over this long: expected, not a hang. */
const FIRST_CPU_SAMPLE_MS = 500;

export function createMonitor(options: MonitorOptions): Monitor {
  const { logger, sourceTimeoutMs } = options;
  const now = options.now ?? (() => new Date());
  const binary = options.nvidiaSmi ?? 'nvidia-smi';
  const nvidiaSmi = createNvidiaSmiReader({ binary, timeoutMs: sourceTimeoutMs });
  const readCpu = single(readCpuLoad);
  const readMem = single(readMemory);
  const problems = new Map<string, string>();
  const abort = new AbortController();

  let cpu: Stamped<number> | null = null;
  let memory: Stamped<MemoryReading> | null = null;
  let uptimeSeconds = 0;
  let gpuReadings: Stamped<GpuReading[]> | null = null;
  let gpuMissing = false;
  let otherMissing = options.otherGpus === undefined;
  let cpuBrand = '';
  let snapshot: MonitorData = build();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let loop: NvidiaSmiLoop | null = null;
  let lastLoopSampleAt = 0;
  let loopFailures = 0;
  let loopAllowedAt = 0;
  let loopStartedAt = 0;
  const gpuListeners = new Set<() => void>();
  /** The GPUs of the previous reading, as compared text; null before the first. */
  let gpuKey: string | null = null;

  /** Logs a source's problem when it starts and its recovery when it ends: never a line per period. */
  function report(source: string, problem: string | null): void {
    const previous = problems.get(source);
    if (problem === null) {
      if (previous !== undefined) logger.info(`${source} reading recovered`);
      problems.delete(source);
    } else {
      if (previous === undefined) logger.warn(`${source} reading failed; keeping the last one`, { problem });
      problems.set(source, problem);
    }
  }

  async function collectCpu(): Promise<void> {
    const result = await timeBox(readCpu(), cpu === null ? sourceTimeoutMs + FIRST_CPU_SAMPLE_MS : sourceTimeoutMs);
    if (result.ok) cpu = { value: result.value, at: now() };
    report('cpu', result.ok ? null : readProblem(result.error));
  }

  async function collectMemory(): Promise<void> {
    const result = await timeBox(readMem(), sourceTimeoutMs);
    if (result.ok) memory = { value: result.value, at: now() };
    report('memory', result.ok ? null : readProblem(result.error));
  }

  async function collectOtherGpus(reader: GpuReader): Promise<void> {
    const result = await reader.read(abort.signal);
    if (stopped) return;
    if (!result.ok && result.error.kind === 'missing') {
      otherMissing = true;
      logger.info('no AMD or Apple GPU found either');
      return;
    }
    if (result.ok) gpuReadings = { value: result.value, at: now() };
    report('gpus', result.ok ? null : readProblem(result.error));
  }

  async function collectGpus(): Promise<void> {
    if (gpuMissing) {
      if (!otherMissing && options.otherGpus) await collectOtherGpus(options.otherGpus);
      return;
    }
    if (loop !== null) {
      const silentMs = performance.now() - lastLoopSampleAt;
      if (silentMs <= options.periodMs + sourceTimeoutMs) return;
      loop.stop();
      loopEnded(`no sample for ${Math.round(silentMs)} ms`);
    }
    const result = await nvidiaSmi.read(abort.signal);
    if (stopped) return;
    if (!result.ok && result.error.kind === 'missing') {
      gpuMissing = true;
      logger.info('nvidia-smi not found: no NVIDIA GPUs', { nvidia_smi: binary });
      if (options.otherGpus) await collectOtherGpus(options.otherGpus);
      return;
    }
    if (result.ok) {
      gpuReadings = { value: result.value, at: now() };
      startLoop(result.value);
    }
    report('nvidia-smi', result.ok ? null : readProblem(result.error));
  }

  function startLoop(gpus: readonly GpuReading[]): void {
    if (stopped || loop !== null || gpus.length === 0 || performance.now() < loopAllowedAt) return;
    loopStartedAt = performance.now();
    lastLoopSampleAt = loopStartedAt;
    loop = startNvidiaSmiLoop({
      binary,
      withComputeCap: nvidiaSmi.withComputeCap(),
      periodMs: options.periodMs,
      indexes: gpus.map((gpu) => gpu.index),
      onSample: (value) => {
        lastLoopSampleAt = performance.now();
        gpuReadings = { value, at: now() };
      },
      onEnd: loopEnded,
    });
  }

  /** Logs every end, which the doubling retry delay keeps rare; the one-shot query takes over meanwhile. */
  function loopEnded(reason: string): void {
    loop = null;
    const { failedInARow, retryMs } = loopRetry(loopFailures, performance.now() - loopStartedAt, options.periodMs);
    loopFailures = failedInARow;
    loopAllowedAt = performance.now() + retryMs;
    logger.warn('nvidia-smi loop ended; querying once a period until it restarts', { reason, retry_in_ms: retryMs });
  }

  async function collectCpuName(): Promise<void> {
    const result = await timeBox(readCpuName(), sourceTimeoutMs);
    if (result.ok) cpuBrand = result.value;
  }

  async function collect(): Promise<void> {
    await Promise.all([collectCpu(), collectMemory(), collectGpus()]);
    uptimeSeconds = Math.floor(os.uptime());
    snapshot = build();
    const key = JSON.stringify(gpus());
    if (key === gpuKey) return;
    const first = gpuKey === null;
    gpuKey = key;
    if (!first) for (const listener of gpuListeners) listener();
  }

  function gpus(): GpuInfo[] {
    return noGpus() ? [] : (gpuReadings?.value ?? []).slice(0, LIMITS.devices).map(gpuInfo);
  }

  function noGpus(): boolean {
    return gpuMissing && otherMissing;
  }

  function build(): MonitorData {
    const gpuPart = noGpus() ? null : gpuReadings;
    const times = [cpu?.at, memory?.at, gpuPart?.at].filter((at) => at !== undefined);
    const oldest = times.reduce<Date | undefined>((min, at) => (min === undefined || at < min ? at : min), undefined);
    return {
      cpu_usage_percent: Math.round((cpu?.value ?? 0) * 10) / 10,
      ram_used_gb: gigabytes(memory?.value.usedBytes ?? 0),
      ram_total_gb: gigabytes(memory?.value.totalBytes ?? 0),
      uptime_seconds: uptimeSeconds,
      devices: (gpuPart?.value ?? []).slice(0, LIMITS.devices).map(deviceData),
      ...(oldest ? { collected_at: oldest.toISOString() } : {}),
    };
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      void collect().then(schedule);
    }, options.periodMs);
    timer.unref();
  }

  return {
    start: runOnce(() => Promise.all([collect(), collectCpuName()]).then(schedule)),
    stop() {
      stopped = true;
      clearTimeout(timer);
      abort.abort();
      loop?.stop();
      loop = null;
    },
    latest: () => snapshot,
    gpus,
    nvidia: () => !gpuMissing && gpus().length > 0,
    onGpusChanged(listener) {
      gpuListeners.add(listener);
      return () => gpuListeners.delete(listener);
    },
    cpuName: () => cpuBrand,
  };
}

/** Shares a read still in flight instead of starting another: a hung source never piles up calls. */
function single<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | null = null;
  return () => {
    inFlight ??= read().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
}

function gigabytes(bytes: number): number {
  return Math.round((bytes / GIB) * 1000) / 1000;
}

function mebibytesToGigabytes(mib: number): number {
  return Math.round((mib / 1024) * 1000) / 1000;
}

/** Only what the driver reported: an unknown value is left out, never sent as 0 (which would read as idle). */
function deviceData(gpu: GpuReading): DeviceMonitorData {
  const { memoryUsedMiB: used, memoryTotalMiB: total, temperatureC: celsius, utilizationPercent: busy } = gpu;
  return {
    device_id: `GPU-${gpu.index}`,
    ...(takes(NonNegative, used) ? { vram_used_gb: mebibytesToGigabytes(used) } : {}),
    ...(takes(NonNegative, total) ? { vram_total_gb: mebibytesToGigabytes(total) } : {}),
    ...(takes(DeviceMonitorData.shape.temperature_celsius, celsius) ? { temperature_celsius: celsius } : {}),
    ...(takes(Percent, busy) ? { utilization_percent: busy } : {}),
  };
}

/** Whether the contract's field takes a reading: one it would refuse (a sensor's garbage) is left out, not sent. */
function takes(field: z.ZodType, value: number | undefined): value is number {
  return value !== undefined && field.safeParse(value).success;
}

function gpuInfo(gpu: GpuReading): GpuInfo {
  return {
    index: gpu.index,
    name: cutText(gpu.name, LIMITS.deviceNameLength),
    ...(gpu.memoryTotalMiB !== undefined ? { vram_gb: mebibytesToGigabytes(Math.max(0, gpu.memoryTotalMiB)) } : {}),
    ...(gpu.computeCapability !== undefined
      ? { compute_capability: cutText(gpu.computeCapability, LIMITS.computeCapabilityLength) }
      : {}),
  };
}

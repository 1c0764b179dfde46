import type { Result } from '../../machines/result.js';
import type { TimeBoxFailure } from './time-box.js';

/** One GPU as its driver's tool reports it; a field the tool cannot give is undefined, never 0. */
export interface GpuReading {
  index: number;
  name: string;
  memoryUsedMiB: number | undefined;
  memoryTotalMiB: number | undefined;
  temperatureC: number | undefined;
  utilizationPercent: number | undefined;
  computeCapability: string | undefined;
}

/** Why a source gave no reading; `missing`: no such tool, this machine has no GPU of that kind. */
export type ReadFailure = TimeBoxFailure | { kind: 'missing' };

export type GpuQueryResult = Result<GpuReading[], ReadFailure>;

/** A failed reading as a monitor problem, in a log line. */
export function readProblem(failure: ReadFailure): string {
  return failure.kind === 'failed' ? failure.message : failure.kind === 'timeout' ? 'timed out' : 'not found';
}

/** One source of GPU readings (nvidia-smi, amd-smi or rocm-smi, macOS): the monitor's one interface to GPUs. */
export interface GpuReader {
  /** One reading; never rejects. `signal` abandons a reading in flight. */
  read(signal?: AbortSignal): Promise<GpuQueryResult>;
}

/** `N/A`, `[N/A]`, `[Not Supported]`, `[Unknown Error]` and empty values carry no value. */
export function reportedText(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  return text === '' || text === 'N/A' || /^\[.*\]$/.test(text) ? undefined : text;
}

/** A number, or a numeric text the tool reported; anything else is unknown. */
export function reportedNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const text = reportedText(value);
  const parsed = text === undefined ? Number.NaN : Number(text);
  return Number.isFinite(parsed) ? parsed : undefined;
}

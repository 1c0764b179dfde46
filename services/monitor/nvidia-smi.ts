import { type ChildProcess, execFile } from 'node:child_process';

/** One GPU as `nvidia-smi` reports it; a field it cannot give (`N/A`, `[Not Supported]`, …) is undefined. */
export interface GpuReading {
  index: number;
  name: string;
  memoryUsedMiB: number | undefined;
  memoryTotalMiB: number | undefined;
  temperatureC: number | undefined;
  utilizationPercent: number | undefined;
  computeCapability: string | undefined;
}

export type NvidiaSmiResult =
  | { kind: 'ok'; gpus: GpuReading[] }
  /** No such binary: this machine has no NVIDIA driver. */
  | { kind: 'missing' }
  | { kind: 'timeout' }
  | { kind: 'failed'; message: string };

const BASE_FIELDS = ['index', 'name', 'memory.used', 'memory.total', 'temperature.gpu', 'utilization.gpu'] as const;
const MAX_OUTPUT_BYTES = 1024 * 1024;

/** The arguments of one query; drivers older than 510 do not know `compute_cap`. */
export function nvidiaSmiArgs(withComputeCap: boolean): string[] {
  const fields = withComputeCap ? [...BASE_FIELDS, 'compute_cap'] : [...BASE_FIELDS];
  return [`--query-gpu=${fields.join(',')}`, '--format=csv,noheader,nounits'];
}

/** Parses `--format=csv,noheader,nounits` output; lines that are not a GPU are skipped. */
export function parseNvidiaSmi(output: string, withComputeCap: boolean): GpuReading[] {
  const tailCount = withComputeCap ? 5 : 4;
  const gpus: GpuReading[] = [];
  for (const line of output.split(/\r?\n/)) {
    const fields = line.split(',').map((field) => field.trim());
    if (fields.length < tailCount + 2) continue;
    const index = Number(fields[0]);
    if (fields[0] === '' || !Number.isInteger(index) || index < 0) continue;
    // A name may itself hold commas: it is everything between the index and the fixed numeric tail.
    const name = fields.slice(1, fields.length - tailCount).join(', ');
    const [used, total, temperature, utilization, computeCap] = fields.slice(fields.length - tailCount);
    const capability = withComputeCap ? text(computeCap) : undefined;
    gpus.push({
      index,
      name: text(name) ?? `GPU ${index}`,
      memoryUsedMiB: number(used),
      memoryTotalMiB: number(total),
      temperatureC: number(temperature),
      utilizationPercent: number(utilization),
      computeCapability: capability,
    });
  }
  return gpus;
}

/** `N/A`, `[N/A]`, `[Not Supported]`, `[Unknown Error]` and empty fields carry no value. */
function text(field: string | undefined): string | undefined {
  if (field === undefined || field === '' || field === 'N/A' || /^\[.*\]$/.test(field)) return undefined;
  return field;
}

function number(field: string | undefined): number | undefined {
  const value = text(field);
  if (value === undefined) return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

export interface NvidiaSmiReaderOptions {
  /** A name looked up on PATH, or a path. */
  binary: string;
  timeoutMs: number;
}

export interface NvidiaSmiReader {
  /** One query; never rejects. `signal` kills a query in flight. */
  read(signal?: AbortSignal): Promise<NvidiaSmiResult>;
  /** Whether queries ask for `compute_cap`: false once the driver has refused it. */
  withComputeCap(): boolean;
}

/** Asynchronous `nvidia-smi` queries, each killed when it outlives its time box. */
export function createNvidiaSmiReader(options: NvidiaSmiReaderOptions): NvidiaSmiReader {
  let withComputeCap = true;
  return {
    async read(signal) {
      const first = await run(options, nvidiaSmiArgs(withComputeCap), signal);
      if (first.kind !== 'failed' || !withComputeCap || !first.message.includes('compute_cap')) {
        return first.kind === 'ok' ? { kind: 'ok', gpus: parseNvidiaSmi(first.stdout, withComputeCap) } : first;
      }
      withComputeCap = false;
      const second = await run(options, nvidiaSmiArgs(false), signal);
      return second.kind === 'ok' ? { kind: 'ok', gpus: parseNvidiaSmi(second.stdout, false) } : second;
    },
    withComputeCap: () => withComputeCap,
  };
}

type RunResult = Exclude<NvidiaSmiResult, { kind: 'ok' }> | { kind: 'ok'; stdout: string };

function run(options: NvidiaSmiReaderOptions, args: string[], signal: AbortSignal | undefined): Promise<RunResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: RunResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', abandon);
      resolve(result);
    };
    const child = execFile(
      options.binary,
      args,
      { encoding: 'utf8', maxBuffer: MAX_OUTPUT_BYTES, windowsHide: true },
      (error, stdout, stderr) => {
        if (!error) return finish({ kind: 'ok', stdout });
        if (error.code === 'ENOENT') return finish({ kind: 'missing' });
        const detail = `${stderr}\n${stdout}`.trim() || error.message;
        finish({ kind: 'failed', message: detail.slice(0, 500) });
      },
    );
    const abandon = (): void => {
      killNvidiaSmi(child);
      finish({ kind: 'timeout' });
    };
    const timer = setTimeout(abandon, options.timeoutMs);
    if (signal?.aborted) abandon();
    else signal?.addEventListener('abort', abandon, { once: true });
  });
}

/** Kills an `nvidia-smi` and lets go of its output: a grandchild holding stdout open would otherwise keep it alive. */
export function killNvidiaSmi(child: ChildProcess): void {
  child.kill('SIGKILL');
  child.stdout?.destroy();
  child.stderr?.destroy();
}

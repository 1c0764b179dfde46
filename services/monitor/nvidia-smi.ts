import { ok } from '../../machines/result.js';
import { type GpuReader, type GpuReading, reportedNumber, reportedText } from './gpu-reading.js';
import { runTool } from './run-tool.js';

const BASE_FIELDS = ['index', 'name', 'memory.used', 'memory.total', 'temperature.gpu', 'utilization.gpu'] as const;

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
    const capability = withComputeCap ? reportedText(computeCap) : undefined;
    gpus.push({
      index,
      name: reportedText(name) ?? `GPU ${index}`,
      memoryUsedMiB: reportedNumber(used),
      memoryTotalMiB: reportedNumber(total),
      temperatureC: reportedNumber(temperature),
      utilizationPercent: reportedNumber(utilization),
      computeCapability: capability,
    });
  }
  return gpus;
}

export interface NvidiaSmiReaderOptions {
  /** A name looked up on PATH, or a path. */
  binary: string;
  timeoutMs: number;
}

export interface NvidiaSmiReader extends GpuReader {
  /** Whether queries ask for `compute_cap`: false once the driver has refused it. */
  withComputeCap(): boolean;
}

/** Asynchronous `nvidia-smi` queries, each killed when it outlives its time box. */
export function createNvidiaSmiReader(options: NvidiaSmiReaderOptions): NvidiaSmiReader {
  let withComputeCap = true;
  return {
    async read(signal) {
      const first = await runTool(options.binary, nvidiaSmiArgs(withComputeCap), options.timeoutMs, signal);
      if (first.ok) return ok(parseNvidiaSmi(first.value, withComputeCap));
      if (first.error.kind !== 'failed' || !withComputeCap || !first.error.message.includes('compute_cap'))
        return first;
      withComputeCap = false;
      const second = await runTool(options.binary, nvidiaSmiArgs(false), options.timeoutMs, signal);
      return second.ok ? ok(parseNvidiaSmi(second.value, false)) : second;
    },
    withComputeCap: () => withComputeCap,
  };
}

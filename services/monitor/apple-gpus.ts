import si, { type Systeminformation } from 'systeminformation';
import type { GpuReader, GpuReading } from './gpu-reading.js';
import { TIMED_OUT, timeBox } from './time-box.js';

export interface AppleGpuReaderOptions {
  timeoutMs: number;
  /** systeminformation's `graphics()` unless a test gives a recorded answer. */
  graphics?: () => Promise<Systeminformation.GraphicsData>;
}

/**
 * Apple GPUs from systeminformation's `graphics()` on macOS. Their memory is the machine's, shared (`vramDynamic`):
 * no VRAM of their own to report, and macOS tells neither load nor temperature, so those stay unknown.
 */
export function parseAppleGraphics(data: Systeminformation.GraphicsData): GpuReading[] {
  return data.controllers
    .filter((controller) => controller.vendor === 'Apple' || controller.model.startsWith('Apple'))
    .map((controller, index) => ({
      index,
      name: controller.model || `Apple GPU ${index}`,
      memoryUsedMiB: controller.memoryUsed,
      memoryTotalMiB: controller.vramDynamic ? undefined : (controller.vram ?? undefined),
      temperatureC: controller.temperatureGpu,
      utilizationPercent: controller.utilizationGpu,
      computeCapability: undefined,
    }));
}

export function createAppleGpuReader(options: AppleGpuReaderOptions): GpuReader {
  const graphics = options.graphics ?? (() => si.graphics());
  return {
    async read() {
      const result = await timeBox(graphics(), options.timeoutMs);
      if (result === TIMED_OUT) return { kind: 'timeout' };
      if (result instanceof Error) return { kind: 'failed', message: result.message };
      const gpus = parseAppleGraphics(result);
      return gpus.length > 0 ? { kind: 'ok', gpus } : { kind: 'missing' };
    },
  };
}

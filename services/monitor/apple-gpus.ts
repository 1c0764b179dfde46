import si, { type Systeminformation } from 'systeminformation';
import { fail, ok } from '../../machines/result.js';
import type { GpuReader, GpuReading } from './gpu-reading.js';
import { timeBox } from './time-box.js';

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
      if (!result.ok) return result;
      const gpus = parseAppleGraphics(result.value);
      return gpus.length > 0 ? ok(gpus) : fail({ kind: 'missing' });
    },
  };
}

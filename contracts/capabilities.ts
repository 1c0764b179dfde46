import { z } from 'zod';
import { Id, LIMITS, NonNegative, Text } from './common.js';

export const DeviceType = z.enum(['gpu', 'cpu']);
export type DeviceType = z.infer<typeof DeviceType>;

export const Device = z.object({
  id: Id,
  name: Text.max(LIMITS.deviceNameLength),
  device_type: DeviceType,
  vram_gb: NonNegative.optional(),
  compute_capability: Text.max(LIMITS.computeCapabilityLength).optional(),
});
export type Device = z.infer<typeof Device>;

export const Model = z.object({
  model_id: Text.min(1).max(1024),
  size_gb: NonNegative,
});
export type Model = z.infer<typeof Model>;

export const WorkerType = z.object({
  worker_type: Id,
  version: Text.min(1).max(64),
});
export type WorkerType = z.infer<typeof WorkerType>;

export const Capabilities = z.object({
  devices: z.array(Device).max(LIMITS.devices),
  models: z.array(Model).max(LIMITS.models),
  workers: z.array(WorkerType).max(LIMITS.workerTypes),
});
export type Capabilities = z.infer<typeof Capabilities>;

export const ChangeAction = z.enum(['added', 'removed']);
export type ChangeAction = z.infer<typeof ChangeAction>;

export const ModelChange = Model.extend({ action: ChangeAction });
export type ModelChange = z.infer<typeof ModelChange>;

export const WorkerTypeChange = WorkerType.extend({ action: ChangeAction });
export type WorkerTypeChange = z.infer<typeof WorkerTypeChange>;

export const DeviceChange = Device.extend({ action: ChangeAction });
export type DeviceChange = z.infer<typeof DeviceChange>;

export const CapabilityChanges = z.object({
  models: z.array(ModelChange).max(LIMITS.models),
  workers: z.array(WorkerTypeChange).max(LIMITS.workerTypes),
  /** A GPU that left the driver's answer or came back; optional, so senders and queens without it still agree. */
  devices: z.array(DeviceChange).max(LIMITS.devices).optional(),
});
export type CapabilityChanges = z.infer<typeof CapabilityChanges>;

export { builtInWorkerTypes, packageVersion } from './built-in-workers.js';
export { applyCapabilityChanges, diffCapabilities, hasChanges } from './capability-diff.js';
export { scanDevices } from './devices.js';
export { MODEL_EXTENSIONS } from './models.js';
export { type CapabilityTracker, type CapabilityTrackerOptions, createCapabilityTracker } from './tracker.js';

export * from './capabilities.js';
export * from './common.js';
export * from './heartbeat.js';
export * from './hive-api.js';
export * from './inference.js';
export * from './paths.js';
export * from './registry.js';
export * from './stream.js';

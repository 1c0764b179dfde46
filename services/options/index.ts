/** Every role's options and the one parser, as the roles and tests import them. */
export { bindingError, isLoopbackHost } from './binding.js';
export { clusterOptions } from './cluster.js';
export { type CliContext, parseCommandLine } from './command-line.js';
export { commonOptions, defaultStateDir, senderOptions } from './common.js';
export { hiveOptions } from './hive.js';
export { OptionError } from './option-error.js';
export { envName, type ParseInput, type ParseResult, parseOptions } from './parse.js';
export { queenOptions } from './queen.js';
export {
  DEFAULT_INSPECT_PORT,
  type OptionKind,
  type OptionSpec,
  type OptionSpecs,
  type ParsedOptions,
} from './spec.js';
export { usage } from './usage.js';
export { workerOptions } from './worker.js';

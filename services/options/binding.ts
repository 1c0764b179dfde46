import { OptionError } from './option-error.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/i;

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host);
}

/** The protocol's refusal to expose a role on the network without a token; undefined when allowed. */
export function bindingError(options: {
  host: string;
  token?: string | undefined;
  insecure: boolean;
}): OptionError | undefined {
  if (isLoopbackHost(options.host) || options.token || options.insecure) return undefined;
  return new OptionError(
    'host',
    `binding ${options.host} without --token is refused (give --token, or --insecure to accept the risk)`,
  );
}

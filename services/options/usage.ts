import { envName } from './parse.js';
import type { OptionSpecs } from './spec.js';

/** The --help text, generated from the specs. */
export function usage<T extends OptionSpecs>(command: string, summary: string, specs: T): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const flag =
      spec.kind === 'boolean' ? `--${name}` : spec.kind === 'inspect' ? `--${name}[=PORT]` : `--${name} <${spec.kind}>`;
    const extra = spec.required ? ' (required)' : spec.default !== undefined ? ` (default ${spec.default})` : '';
    return `  ${flag.padEnd(32)} ${spec.description}${extra}\n  ${''.padEnd(32)} env ${envName(name)}`;
  });
  return `Usage: ${command} [options]\n\n${summary}\n\nOptions:\n${rows.join('\n')}\n  --help                           show this help\n`;
}

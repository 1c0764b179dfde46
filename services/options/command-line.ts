import { bindingError } from './binding.js';
import { OptionError } from './option-error.js';
import { parseOptions } from './parse.js';
import type { OptionSpecs, ParsedOptions } from './spec.js';
import { usage } from './usage.js';

export interface CliContext {
  command: string;
  summary: string;
  argv?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
  exit?: (code: number) => never;
  out?: (text: string) => void;
  err?: (text: string) => void;
}

/**
 * Parses a role's command line: prints --help and exits 0, or a one-line error naming the flag and exits 2. `check`
 * refuses what no single option shows (a flag that needs another) by throwing an OptionError.
 */
export function parseCommandLine<T extends OptionSpecs>(
  specs: T,
  cli: CliContext,
  check?: (options: ParsedOptions<T>) => void,
): ParsedOptions<T> {
  const exit = cli.exit ?? ((code: number) => process.exit(code));
  const out = cli.out ?? ((text: string) => process.stdout.write(text));
  const err = cli.err ?? ((text: string) => process.stderr.write(text));
  try {
    const result = parseOptions(specs, { argv: cli.argv ?? process.argv.slice(2), env: cli.env ?? process.env });
    if (result.help) {
      out(usage(cli.command, cli.summary, specs));
      return exit(0);
    }
    const options = result.options;
    const token = typeof options.token === 'string' ? options.token : undefined;
    const refusal = bindingError({ host: String(options.host), token, insecure: options.insecure === true });
    if (refusal) throw refusal;
    check?.(options);
    return options;
  } catch (error) {
    if (!(error instanceof OptionError)) throw error;
    err(`${cli.command}: ${error.message}\n`);
    return exit(2);
  }
}

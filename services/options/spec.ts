/**
 * What an option is (docs/protocol.md: Command line): its kind, textual default and bounds, and the typed value a
 * role reads once its command line is parsed.
 */
import type { z } from 'zod';

export const DEFAULT_INSPECT_PORT = 5678;

interface KindTypes {
  string: string;
  path: string;
  url: string;
  /** Repeatable (`--flag URL` again adds one), and each value a comma- or space-separated list, in order. */
  urls: string[];
  int: number;
  port: number;
  number: number;
  duration: number;
  durations: number[];
  boolean: boolean;
  /** A directory, or null for `none`: keep nothing. */
  'state-dir': string | null;
  /** `--inspect` alone = the default port; `--inspect=PORT` a given one. */
  inspect: number;
}
export type OptionKind = keyof KindTypes;

export interface OptionSpec {
  readonly kind: OptionKind;
  readonly description: string;
  /** Textual default, parsed like user input. */
  readonly default?: string;
  readonly required?: boolean;
  /** Allowed values, for a `string` option that is an enum. */
  readonly values?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** The contract's schema a `string` option's value must pass (an id the queen would refuse is refused at start). */
  readonly schema?: z.ZodType<string>;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;
type ValueOf<S extends OptionSpec> = S extends { values: readonly (infer V)[] } ? V : KindTypes[S['kind']];
type Settled<S extends OptionSpec> = S extends
  | { default: string }
  | { required: true }
  | { kind: 'boolean' }
  | { kind: 'urls' }
  ? ValueOf<S>
  : ValueOf<S> | undefined;

/** The typed result of parsing `T`: kebab-case flags become camelCase keys. */
export type ParsedOptions<T extends OptionSpecs> = { -readonly [K in keyof T & string as CamelCase<K>]: Settled<T[K]> };

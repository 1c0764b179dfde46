/** `T` with every key whose value may be undefined made optional instead: absent, never present as undefined. */
export type Defined<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/** A copy of `record` without its undefined values, so that optional options pass through as absent. */
export function defined<T extends object>(record: T): Defined<T>;
export function defined(record: object): object {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

import type { z } from 'zod';

/** The dotted paths of the issues `schema` reports for `value`; empty when the value is accepted. */
export function issuePaths(schema: z.ZodType, value: unknown): string[] {
  const result = schema.safeParse(value);
  return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));
}

/**
 * A deep copy of `base` with the value at the dotted `path` replaced (removed when `value` is undefined): the way
 * to build a wrong payload that the payload types would not let a test write.
 */
export function withValue(base: unknown, path: string, value: unknown): unknown {
  const copy: unknown = structuredClone(base);
  const keys = path.split('.');
  const last = keys.pop() ?? '';
  let node: unknown = copy;
  for (const key of keys) node = isObject(node) ? Reflect.get(node, key) : undefined;
  if (!isObject(node)) throw new Error(`${path} is not inside the example`);
  if (value === undefined) Reflect.deleteProperty(node, last);
  else Reflect.set(node, last, value);
  return copy;
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/** `count` copies of `item`, for the array limits. */
export function times<T>(count: number, item: (index: number) => T): T[] {
  return Array.from({ length: count }, (_, index) => item(index));
}

/** `fn` made safe to call again: it runs at the first call, and every later call answers what that one did. */
export function runOnce<T>(fn: () => T): () => T {
  let first: { value: T } | undefined;
  return () => {
    first ??= { value: fn() };
    return first.value;
  };
}

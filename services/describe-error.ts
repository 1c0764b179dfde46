/** An error's message; a system error's code (ECONNREFUSED…) wins, and fetch hides it in its cause ("fetch failed"). */
export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if ('code' in error && typeof error.code === 'string') return error.code;
  const cause = error.cause;
  if (cause instanceof Error) return 'code' in cause && typeof cause.code === 'string' ? cause.code : cause.message;
  return error.message;
}

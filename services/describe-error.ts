/** An error's message; fetch hides the reason behind "fetch failed", so its cause's code (ECONNREFUSED…) wins. */
export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) return 'code' in cause && typeof cause.code === 'string' ? cause.code : cause.message;
  return error.message;
}

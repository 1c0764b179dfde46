/** The bearer header carrying the page's `?token=` to the queen's JSON routes; none without a token. */
export function tokenHeaders(pageUrl: string): Record<string, string> {
  const token = new URL(pageUrl).searchParams.get('token');
  return token === null ? {} : { authorization: `Bearer ${token}` };
}

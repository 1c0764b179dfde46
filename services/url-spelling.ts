/**
 * One spelling per URL (host lower-cased, default port and a lone trailing slash dropped), so that the same queen
 * given, advertised or named in a redirect is recognised as the same URL.
 */
export function urlSpelling(url: string): string {
  return new URL(url).toString().replace(/\/$/, '');
}

/**
 * Headers that describe one connection rather than the message (RFC 9110 §7.6.1): a proxy passes none of them on,
 * nor any header the message's own `Connection` names.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** The header names a `Connection` value lists, lower-cased. */
export function connectionNames(values: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const value of values) {
    for (const name of value.split(',')) {
      const trimmed = name.trim().toLowerCase();
      if (trimmed !== '') names.add(trimmed);
    }
  }
  return names;
}

/** Whether a header named `name` (any case) stays on its hop; `named` is what the message's Connection lists. */
export function isHopByHop(name: string, named: ReadonlySet<string>): boolean {
  const lower = name.toLowerCase();
  return HOP_BY_HOP.has(lower) || lower.startsWith('proxy-') || named.has(lower);
}

/** Node's raw header list (name, value, name, value…) without its hop-by-hop headers. */
export function endToEndHeaders(raw: readonly string[]): string[] {
  const connection: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() === 'connection') connection.push(raw[i + 1] ?? '');
  }
  const named = connectionNames(connection);
  const kept: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    if (!isHopByHop(name, named)) kept.push(name, raw[i + 1] ?? '');
  }
  return kept;
}

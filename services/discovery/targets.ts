import { readFile } from 'node:fs/promises';
import SSHConfig, { type Line, LineType } from 'ssh-config';

/**
 * The hives to discover (docs/protocol.md: Pull discovery): every `Host` alias of an SSH config that has a `HostName`, one target per
 * distinct HostName (its first alias names it). Wildcard patterns and `Match` blocks describe no one host and are
 * skipped; nothing is ever evaluated (`Match exec` would run a shell command).
 */
export interface HiveTarget {
  /** The Host alias: the hive's id until it answers with its own. */
  alias: string;
  hostName: string;
}

export function hiveTargets(text: string): HiveTarget[] {
  const targets = new Map<string, HiveTarget>();
  for (const line of SSHConfig.parse(text)) {
    if (line.type !== LineType.DIRECTIVE || line.param.toLowerCase() !== 'host' || !('config' in line)) continue;
    const hostName = directive(line.config, 'hostname');
    if (hostName === undefined) continue;
    for (const alias of patterns(line.value)) {
      if (/[*?]/.test(alias) || alias.startsWith('!')) continue;
      const resolved = hostName.replace(/%(%|h)/g, (_, token: string) => (token === 'h' ? alias : '%'));
      if (!targets.has(resolved)) targets.set(resolved, { alias, hostName: resolved });
    }
  }
  return [...targets.values()];
}

/** The targets of the SSH config at `path`; a missing file is an empty list. */
export async function readHiveTargets(path: string): Promise<HiveTarget[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return [];
    throw error;
  }
  return hiveTargets(text);
}

function patterns(value: string | { val: string }[]): string[] {
  return typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : value.map((part) => part.val);
}

function directive(config: readonly Line[], name: string): string | undefined {
  for (const line of config) {
    if (line.type !== LineType.DIRECTIVE || line.param.toLowerCase() !== name) continue;
    const value = typeof line.value === 'string' ? line.value : line.value.map((part) => part.val).join(' ');
    return value.trim() || undefined;
  }
  return undefined;
}

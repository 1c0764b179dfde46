import { readdirSync, readFileSync } from 'node:fs';

/** Which processes run, read from Linux's /proc: a process that exited but was not yet reaped (a zombie) is gone. */

interface ProcessStat {
  pid: number;
  ppid: number;
  state: string;
}

/** `/proc/<pid>/stat`; undefined once the process is gone. */
function stat(pid: number): ProcessStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (2nd field) is in parentheses and may hold spaces: the fields after it are split safely.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid, state: fields[0] ?? '', ppid: Number(fields[1]) };
}

export function isRunning(pid: number): boolean {
  const found = stat(pid);
  return found !== undefined && found.state !== 'Z' && found.state !== 'X';
}

/** Every running descendant of `pid`, children first. */
export function descendants(pid: number): number[] {
  const all = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => stat(Number(name)))
    .filter((found): found is ProcessStat => found !== undefined && found.state !== 'Z' && found.state !== 'X');
  const found: number[] = [];
  const queue = [pid];
  for (let parent = queue.shift(); parent !== undefined; parent = queue.shift()) {
    for (const child of all) {
      if (child.ppid !== parent) continue;
      found.push(child.pid);
      queue.push(child.pid);
    }
  }
  return found;
}

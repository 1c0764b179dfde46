import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { descendants } from '../../support/process-tree.js';

/** CPU time and memory of a process as Linux accounts them (`/proc/<pid>/stat`, `/proc/<pid>/status`). */
export interface CpuTime {
  /** utime + stime, ms. */
  selfMs: number;
  /** cutime + cstime: children it waited for (e.g. each `nvidia-smi` run), ms. */
  childrenMs: number;
}

const ticksPerSecond = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export function readCpuTime(pid: number): CpuTime {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses: fields are counted from after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = (field: number): number => Number(fields[field - 3] ?? Number.NaN);
  const ms = 1000 / ticksPerSecond;
  return { selfMs: (ticks(14) + ticks(15)) * ms, childrenMs: (ticks(16) + ticks(17)) * ms };
}

/**
 * Like `readCpuTime`, with the CPU of descendants still running (a long-lived `nvidia-smi --loop-ms`, say) added to
 * `childrenMs`: Linux only counts a child once it has exited and been waited for.
 */
export function readTreeCpuTime(pid: number): CpuTime {
  const own = readCpuTime(pid);
  let childrenMs = own.childrenMs;
  for (const child of descendants(pid)) {
    try {
      const time = readCpuTime(child);
      childrenMs += time.selfMs + time.childrenMs;
    } catch {
      // Exited between the listing and the read: its time is in its parent's children now.
    }
  }
  return { selfMs: own.selfMs, childrenMs };
}

export function readRssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match?.[1]) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

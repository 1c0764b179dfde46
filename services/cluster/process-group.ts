/**
 * Sends `signal` to every process of group `group` (0: none, only a check); false once no process of it is left. A
 * group outlives its leader while any member runs, and its number is not given to a new process until then.
 */
export function signalGroup(group: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-group, signal);
    return true;
  } catch {
    return false;
  }
}

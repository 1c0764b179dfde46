import type { WebhookAlert } from '../../contracts/alert.js';
import type { ProblemChange } from './alert-input.js';

export interface ProblemTrackerOptions {
  /** A problem that opens and resolves (or resolves and opens again) within this long sends nothing. */
  debounceMs: number;
  onAlert(alert: WebhookAlert): void;
  /** The problems whose `open` alert went out changed: told them all. */
  onOpenChange?: ((open: WebhookAlert[]) => void) | undefined;
  now?: () => Date;
}

export interface ProblemTracker {
  /** A problem opened or resolved; repeats of the state it is already in change nothing. */
  change(change: ProblemChange): void;
  /** Problems open now, the ones whose alert is still held included. */
  openCount(): number;
  /** The `open` alerts sent for problems not resolved yet (a resolution still held included). */
  open(): WebhookAlert[];
  /**
   * Takes over the problems another queen opened (a new leader): replaces what this one held, each open as sent, so
   * that the condition clearing resolves it.
   */
  adopt(open: readonly WebhookAlert[]): void;
  /** Drops every timer: nothing is sent afterwards. */
  stop(): void;
}

/**
 * One state per problem: `opening` (opened, its alert held for the debounce), `open` (alert sent), `resolving`
 * (resolved after its alert was sent, the resolution held for the debounce). A flap inside the debounce cancels the
 * held alert, so each problem sends one `open` and one `resolved`, each stamped with when it really happened.
 */
export function createProblemTracker(options: ProblemTrackerOptions): ProblemTracker {
  const now = options.now ?? (() => new Date());
  const problems = new Map<string, Held>();
  let stopped = false;

  const sent = (): WebhookAlert[] =>
    [...problems.values()].flatMap((held) => (held.stage === 'opening' ? [] : [held.opened]));
  const changed = (): void => options.onOpenChange?.(sent());

  function hold(key: string, change: ProblemChange, stage: 'opening' | 'resolving', opened?: WebhookAlert): void {
    const alert: WebhookAlert = {
      event: change.problem,
      state: stage === 'opening' ? 'open' : 'resolved',
      kind: change.kind,
      id: change.id,
      time: now().toISOString(),
      reason: change.reason,
    };
    const timer = setTimeout(() => {
      if (stage === 'opening') problems.set(key, { stage: 'open', opened: alert });
      else problems.delete(key);
      options.onAlert(alert);
      changed();
    }, options.debounceMs);
    timer.unref?.();
    problems.set(key, stage === 'opening' ? { stage, timer } : { stage, timer, opened: opened ?? alert });
  }
  const keyOf = (problem: string, id: string): string => `${problem}\n${id}`;
  const drop = (): void => {
    for (const held of problems.values()) if (held.stage !== 'open') clearTimeout(held.timer);
    problems.clear();
  };

  return {
    change(change) {
      if (stopped) return;
      const key = keyOf(change.problem, change.id);
      const held = problems.get(key);
      if (change.open) {
        if (held === undefined) hold(key, change, 'opening');
        else if (held.stage === 'resolving') {
          clearTimeout(held.timer);
          problems.set(key, { stage: 'open', opened: held.opened });
        }
      } else if (held?.stage === 'opening') {
        clearTimeout(held.timer);
        problems.delete(key);
      } else if (held?.stage === 'open') hold(key, change, 'resolving', held.opened);
    },
    openCount: () => [...problems.values()].filter((held) => held.stage !== 'resolving').length,
    open: sent,
    adopt(open) {
      drop();
      for (const alert of open) problems.set(keyOf(alert.event, alert.id), { stage: 'open', opened: alert });
    },
    stop() {
      stopped = true;
      drop();
    },
  };
}

/** A problem's stage; once its `open` alert is sent, that alert (what a successor resolves). */
type Held =
  | { stage: 'open'; opened: WebhookAlert }
  | { stage: 'opening'; timer: ReturnType<typeof setTimeout> }
  | { stage: 'resolving'; timer: ReturnType<typeof setTimeout>; opened: WebhookAlert };

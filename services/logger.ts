/** Structured logging: one JSON object a line on stderr, filtered by level. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, unknown>;

export interface Logger {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; stderr by default. */
  write?: (line: string) => void;
  fields?: LogFields;
  /** Lines of one message per window; the rest are counted, and one summary line tells how many. */
  linesPerWindow?: number;
  windowMs?: number;
}

export const LINES_PER_WINDOW = 10;
export const LOG_WINDOW_MS = 1_000;

/** One message's budget in the current window. */
interface Budget {
  level: LogLevel;
  windowStart: number;
  used: number;
  suppressed: number;
  timer: NodeJS.Timeout | undefined;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? 'info');
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const perWindow = options.linesPerWindow ?? LINES_PER_WINDOW;
  const windowMs = options.windowMs ?? LOG_WINDOW_MS;
  // Shared by a logger and its children: the bound is per message, whoever logs it.
  const budgets = new Map<string, Budget>();
  const line = (level: LogLevel, base: LogFields, msg: string, fields?: LogFields): void => {
    write(`${JSON.stringify({ time: new Date().toISOString(), level, ...base, msg, ...fields }, errorReplacer)}\n`);
  };
  const summarize = (msg: string, budget: Budget): void => {
    clearTimeout(budget.timer);
    budget.timer = undefined;
    if (budget.suppressed === 0) return;
    line(budget.level, {}, `… and ${budget.suppressed.toLocaleString('en-US')} more ${msg} lines`, {
      suppressed: budget.suppressed,
      of: msg,
    });
    budget.suppressed = 0;
  };
  const make = (base: LogFields): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
      if (LOG_LEVELS.indexOf(level) > threshold) return;
      const now = Date.now();
      let budget = budgets.get(msg);
      if (!budget || now - budget.windowStart >= windowMs) {
        if (budget) summarize(msg, budget);
        budget = { level, windowStart: now, used: 0, suppressed: 0, timer: undefined };
        budgets.set(msg, budget);
      }
      if (budget.used < perWindow) {
        budget.used++;
        line(level, base, msg, fields);
        return;
      }
      budget.suppressed++;
      const current = budget;
      current.timer ??= setTimeout(() => summarize(msg, current), windowMs - (now - current.windowStart));
      current.timer.unref?.();
    };
    return {
      error: (msg, fields) => emit('error', msg, fields),
      warn: (msg, fields) => emit('warn', msg, fields),
      info: (msg, fields) => emit('info', msg, fields),
      debug: (msg, fields) => emit('debug', msg, fields),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make(options.fields ?? {});
}

/** A logger that drops everything, for tests and libraries. */
export const silentLogger: Logger = createLogger({ write: () => {}, level: 'error' });

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}

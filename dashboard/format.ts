const SECOND_MS = 1000;
const MINUTE_S = 60;
const HOUR_S = 60 * MINUTE_S;
const DAY_S = 24 * HOUR_S;

/** "4 s", "2 min 05 s", "3 h 07 min", "2 d 4 h". */
export function formatDuration(durationMs: number): string {
  const seconds = Math.max(0, Math.floor(durationMs / SECOND_MS));
  if (seconds < MINUTE_S) return `${seconds} s`;
  if (seconds < HOUR_S) return `${Math.floor(seconds / MINUTE_S)} min ${pad(seconds % MINUTE_S)} s`;
  if (seconds < DAY_S) return `${Math.floor(seconds / HOUR_S)} h ${pad(Math.floor((seconds % HOUR_S) / MINUTE_S))} min`;
  return `${Math.floor(seconds / DAY_S)} d ${Math.floor((seconds % DAY_S) / HOUR_S)} h`;
}

export function formatAge(ageMs: number): string {
  return `${formatDuration(ageMs)} ago`;
}

export function formatGb(gb: number): string {
  return `${gb < 10 ? gb.toFixed(1) : gb.toFixed(0)} GB`;
}

export function formatPercent(percent: number): string {
  return `${Math.round(percent)} %`;
}

/** Share of `used` in `total` as 0–100; 0 when the total is unknown. */
export function percentOf(used: number, total: number): number {
  return total > 0 ? clampPercent((used / total) * 100) : 0;
}

export function clampPercent(value: number): number {
  return Math.min(100, Math.max(0, value));
}

/** A signed duration in seconds with one decimal: "+3.2 s". */
export function formatOffset(offsetMs: number): string {
  const seconds = (offsetMs / SECOND_MS).toFixed(1);
  return `${offsetMs >= 0 ? '+' : ''}${seconds} s`;
}

/** Wall-clock time of a queen timestamp in the viewer's time zone: "14:03:27". */
export function formatClock(timestamp: string): string {
  const date = new Date(timestamp);
  return Number.isNaN(date.getTime()) ? timestamp : date.toLocaleTimeString([], { hour12: false });
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/** The queen's wall clock as the page estimates it from the stream, so trends line up whatever the browser's clock. */
export class QueenClock {
  private offsetMs: number | null = null;

  /** The queen's wall clock read `queenWallMs` at local monotonic time `localNow`. */
  observe(queenWallMs: number, localNow: number): void {
    if (Number.isFinite(queenWallMs)) this.offsetMs = queenWallMs - localNow;
  }

  /** Unix seconds on the queen's clock; the browser's own clock until the stream said otherwise. */
  nowS(localNow: number): number {
    return this.offsetMs === null ? Date.now() / 1000 : (localNow + this.offsetMs) / 1000;
  }
}

/**
 * Spacing of dispatches made with one token: at least `minIntervalMs` between two sends (GitHub's
 * secondary limits punish bursts), and none at all until a rate limit GitHub announced has passed.
 * The worker sends one dispatch at a time, so this only decides when the next one may start.
 */
export class DispatchPacer {
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private pausedUntil = Number.NEGATIVE_INFINITY;

  constructor(private readonly minIntervalMs: number) {}

  /** The earliest time the next dispatch may start. */
  nextAllowedAt(): number {
    return Math.max(this.lastSentAt + this.minIntervalMs, this.pausedUntil);
  }

  markSent(at: number): void {
    this.lastSentAt = at;
  }

  pauseUntil(at: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, at);
  }
}

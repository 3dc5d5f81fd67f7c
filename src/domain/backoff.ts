/** Upper bound of one backoff step, whatever DELIVERY_RETRY_BASE_MS and the attempt count say. */
export const MAX_BACKOFF_MS = 5 * 60_000;

/**
 * Exponential backoff with full jitter: a uniform delay in [0, min(cap, base * 2^(n-1))), where n is
 * the number of transient failures so far (AWS Architecture Blog, "Exponential Backoff And Jitter").
 */
export function computeBackoffMs(failures: number, baseMs: number, random: () => number, capMs = MAX_BACKOFF_MS): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.floor(random() * ceiling);
}

import type { GitHubAnswer } from './classify-answer';

/** The shortest gap between two reads with one token: GitHub's 900 points a minute allow one each 67 ms. */
export const MIN_READ_INTERVAL_MS = 100;

/**
 * Kept for dispatches out of the hourly budget: reads slow down so that this much of it (a tenth of the
 * limit, at least 50 requests) is always left for the rollbacks still to be sent.
 */
export function dispatchReserve(limit: number): number {
  return Math.max(50, Math.ceil(limit / 10));
}

/**
 * When the next read with this token may go, after `answer` came at `now`: reads have their own budget
 * (GitHub's primary hourly limit, shown in x-ratelimit-*), spread evenly over what is left of the hour
 * once the dispatches' reserve is set aside, so they slow down as x-ratelimit-remaining falls and stop
 * (until the reset) when only the reserve is left. Without the headers (a transport error, or an answer
 * from another host), the shortest gap. Rate-limit answers are classifyGitHubAnswer's: their wait wins.
 */
export function nextReadAt(answer: GitHubAnswer, now: number): number {
  if (answer.kind !== 'response') return now + MIN_READ_INTERVAL_MS;
  const limit = Number(answer.headers['x-ratelimit-limit']);
  const remaining = Number(answer.headers['x-ratelimit-remaining']);
  const resetAt = Number(answer.headers['x-ratelimit-reset']) * 1000;
  if (![limit, remaining, resetAt].every(Number.isFinite) || limit <= 0 || resetAt <= now) return now + MIN_READ_INTERVAL_MS;
  const usable = remaining - dispatchReserve(limit);
  if (usable <= 0) return resetAt;
  return now + Math.max(MIN_READ_INTERVAL_MS, Math.ceil((resetAt - now) / usable));
}

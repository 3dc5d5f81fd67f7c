import type { GitHubAnswer } from './classify-answer';

/**
 * Kept for dispatches out of the hourly budget: reads slow down so that this much of it (a tenth of the
 * limit, at least 50 requests) is always left for the rollbacks still to be sent.
 */
export function dispatchReserve(limit: number): number {
  return Math.max(50, Math.ceil(limit / 10));
}

/**
 * When the next read with this token may go, after `answer` came at `now`: reads have their own budget
 * (GitHub's primary hourly limit, shown in x-ratelimit-*). While more than half of it is left they go
 * `minMs` apart (GITHUB_READ_INTERVAL_MS); below half, what is left once the dispatches' reserve is set
 * aside is spread evenly over the rest of the hour, so they slow down as x-ratelimit-remaining falls, and
 * stop until the reset when only the reserve is left. Without the headers (a transport error, an answer
 * from another host), `minMs`. Rate-limit answers are classifyGitHubAnswer's: their wait wins.
 */
export function nextReadAt(answer: GitHubAnswer, now: number, minMs: number): number {
  if (answer.kind !== 'response') return now + minMs;
  const limit = Number(answer.headers['x-ratelimit-limit']);
  const remaining = Number(answer.headers['x-ratelimit-remaining']);
  const resetAt = Number(answer.headers['x-ratelimit-reset']) * 1000;
  if (![limit, remaining, resetAt].every(Number.isFinite) || limit <= 0 || resetAt <= now) return now + minMs;
  const usable = remaining - dispatchReserve(limit);
  if (usable <= 0) return resetAt;
  if (remaining > limit / 2) return now + minMs;
  return now + Math.max(minMs, Math.ceil((resetAt - now) / usable));
}

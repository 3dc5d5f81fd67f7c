/**
 * One budget of failed authentications per client address, shared by the sign-in form and every route
 * that takes a token: at most `limit` a minute. Past it, that address gets 429 for the rest of its minute,
 * whatever it sends (a right token too: otherwise 429 against 200 would still answer each guess). Other
 * addresses are never slowed. Only failures count, so the owner signing in now and then spends nothing.
 * Per process: each replica keeps its own budget (an attacker spread over N replicas gets N budgets).
 */
export const AUTH_FAILURES_PER_MINUTE = 20;
const WINDOW_MS = 60_000;
/** Addresses remembered at most; past it, windows that ended are forgotten first. */
const MAX_ADDRESSES = 10_000;

interface Window {
  startedAt: number;
  failures: number;
}

export interface AuthFailureBudget {
  /** Milliseconds until `address` may try again, or 0 when it may try now. */
  waitMs(address: string, now: number): number;
  /** Records one failure; true when it is the one that used up the budget (log and count it once). */
  fail(address: string, now: number): boolean;
}

export function createAuthFailureBudget(limit = AUTH_FAILURES_PER_MINUTE): AuthFailureBudget {
  const windows = new Map<string, Window>();
  const current = (address: string, now: number): Window | undefined => {
    const window = windows.get(address);
    if (window && now - window.startedAt < WINDOW_MS && now >= window.startedAt) return window;
    if (window) windows.delete(address);
    return undefined;
  };
  return {
    waitMs(address, now) {
      const window = current(address, now);
      return window && window.failures >= limit ? window.startedAt + WINDOW_MS - now : 0;
    },
    fail(address, now) {
      let window = current(address, now);
      if (!window) {
        if (windows.size >= MAX_ADDRESSES) {
          for (const [key, w] of windows) if (now - w.startedAt >= WINDOW_MS) windows.delete(key);
          // Still full of live windows: the oldest goes (an attacker with 10,000 addresses has other means).
          if (windows.size >= MAX_ADDRESSES) windows.delete(windows.keys().next().value!);
        }
        window = { startedAt: now, failures: 0 };
        windows.set(address, window);
      }
      window.failures += 1;
      return window.failures === limit;
    },
  };
}

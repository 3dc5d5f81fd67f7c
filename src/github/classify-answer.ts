/** What GitHub (or the network) said to one dispatch. Header names are lower case. */
export type GitHubAnswer =
  | { kind: 'response'; status: number; headers: Record<string, string | undefined>; message: string | undefined }
  | { kind: 'transport'; message: string };

export type DeliveryVerdict =
  | { kind: 'delivered' }
  | { kind: 'permanent'; reason: string; remedy: string }
  | { kind: 'rate_limited'; reason: string; retryAt: number }
  | { kind: 'transient'; reason: string };

/** GitHub documents that after a secondary rate limit without retry-after one waits at least a minute. */
export const SECONDARY_LIMIT_WAIT_MS = 60_000;
/** The shortest rate-limit wait, whatever GitHub's headers say (retry-after: 0 would make a tight loop). */
export const MIN_RATE_LIMIT_WAIT_MS = 1000;

const PERMANENT_REMEDIES: Record<number, string> = {
  400: 'GitHub could not parse the request; this is a bug, please report it',
  401: 'check GH_PAT_WEBHOOK (or, with a GitHub App, GITHUB_APP_ID, its key and its installation): missing, mistyped, expired, revoked or suspended',
  403: 'check GH_PAT_WEBHOOK permissions: a classic PAT needs the repo scope, a fine-grained one Contents: read and write on the repository',
  404: 'check the target repository (REPO_OWNER and REPO_NAME, the route, or the Application\'s repoURL) and that the token can see it (GitHub answers 404 for repositories a token cannot read)',
  410: 'the repository is gone or archived: check REPO_OWNER and REPO_NAME',
  422: 'GitHub refused the dispatch body: check WEBHOOK_EVENT and the client payload',
};

function describe(status: number, message: string | undefined): string {
  return message ? `GitHub answered ${status}: ${message}` : `GitHub answered ${status}`;
}

/** retry-after is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return now + Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(now, date);
}

/**
 * Classifies one answer to a dispatch: delivered, permanent (never retried), rate limited (retry at
 * GitHub's time) or transient (retry with backoff). Pure: a function of the answer and `now`.
 */
export function classifyGitHubAnswer(answer: GitHubAnswer, now: number): DeliveryVerdict {
  if (answer.kind === 'transport') return { kind: 'transient', reason: `request failed: ${answer.message}` };

  const { status, headers, message } = answer;
  const reason = describe(status, message);
  if (status >= 200 && status < 300) return { kind: 'delivered' };

  if (status === 403 || status === 429) {
    const floor = now + MIN_RATE_LIMIT_WAIT_MS;
    const retryAfter = parseRetryAfter(headers['retry-after'], now);
    if (retryAfter !== undefined) return { kind: 'rate_limited', reason, retryAt: Math.max(retryAfter, floor) };
    const reset = headers['x-ratelimit-reset'];
    const exhausted = headers['x-ratelimit-remaining'] === '0';
    if (exhausted && reset !== undefined && /^\d+$/.test(reset) && Number(reset) * 1000 > now) {
      return { kind: 'rate_limited', reason, retryAt: Math.max(Number(reset) * 1000, floor) };
    }
    // A limit without a usable hint (no header, or a reset already past): wait a minute, as GitHub asks.
    if (exhausted || status === 429 || /secondary rate limit|abuse/i.test(message ?? '')) {
      return { kind: 'rate_limited', reason, retryAt: now + SECONDARY_LIMIT_WAIT_MS };
    }
  }

  if (status >= 500 || status === 408) return { kind: 'transient', reason };
  if (status >= 400) {
    return { kind: 'permanent', reason, remedy: PERMANENT_REMEDIES[status] ?? 'GitHub refused the request; see its message' };
  }
  // 1xx/3xx are not expected from this endpoint; treat as a glitch and try again later.
  return { kind: 'transient', reason };
}

import { SECONDARY_LIMIT_WAIT_MS, classifyGitHubAnswer, type GitHubAnswer } from '../../src/github/classify-answer';

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const response = (status: number, headers: Record<string, string> = {}, message?: string): GitHubAnswer => ({
  kind: 'response',
  status,
  headers,
  message,
});

describe('classifyGitHubAnswer', () => {
  it.each([
    ['204 is delivered', response(204), { kind: 'delivered' }],
    ['401 is permanent', response(401, {}, 'Bad credentials'), { kind: 'permanent', reason: 'GitHub answered 401: Bad credentials' }],
    ['404 is permanent', response(404, {}, 'Not Found'), { kind: 'permanent', reason: 'GitHub answered 404: Not Found' }],
    ['422 is permanent', response(422, {}, 'Invalid request.'), { kind: 'permanent' }],
    ['400 is permanent', response(400), { kind: 'permanent', reason: 'GitHub answered 400' }],
    ['410 is permanent', response(410), { kind: 'permanent' }],
    ['403 without rate-limit signs is permanent', response(403, { 'x-ratelimit-remaining': '4999' }, 'Resource not accessible'), { kind: 'permanent' }],
    ['500 is transient', response(500), { kind: 'transient' }],
    ['502 is transient', response(502), { kind: 'transient' }],
    ['503 is transient', response(503), { kind: 'transient' }],
    ['408 is transient', response(408), { kind: 'transient' }],
    ['a timeout is transient', { kind: 'transport', message: 'timeout of 100ms exceeded (ETIMEDOUT)' }, { kind: 'transient', reason: 'request failed: timeout of 100ms exceeded (ETIMEDOUT)' }],
    ['a reset is transient', { kind: 'transport', message: 'socket hang up (ECONNRESET)' }, { kind: 'transient' }],
    ['429 with retry-after waits that long', response(429, { 'retry-after': '30' }), { kind: 'rate_limited', retryAt: NOW + 30_000 }],
    ['403 with retry-after waits that long', response(403, { 'retry-after': '7' }, 'secondary rate limit'), { kind: 'rate_limited', retryAt: NOW + 7_000 }],
    ['retry-after as an HTTP date', response(429, { 'retry-after': new Date(NOW + 90_000).toUTCString() }), { kind: 'rate_limited', retryAt: NOW + 90_000 }],
    [
      '403 primary limit waits until x-ratelimit-reset',
      response(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 + 600) }, 'API rate limit exceeded'),
      { kind: 'rate_limited', retryAt: NOW + 600_000 },
    ],
    ['retry-after wins over x-ratelimit-reset', response(429, { 'retry-after': '5', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 + 600) }), { kind: 'rate_limited', retryAt: NOW + 5_000 }],
    ['a reset already past: no usable hint, a minute', response(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 - 10) }), { kind: 'rate_limited', retryAt: NOW + SECONDARY_LIMIT_WAIT_MS }],
    ['429 with retry-after: 0 waits at least a second', response(429, { 'retry-after': '0' }), { kind: 'rate_limited', retryAt: NOW + 1000 }],
    ['403 secondary limit without headers waits a minute', response(403, {}, 'You have exceeded a secondary rate limit.'), { kind: 'rate_limited', retryAt: NOW + SECONDARY_LIMIT_WAIT_MS }],
    ['429 without headers waits a minute', response(429), { kind: 'rate_limited', retryAt: NOW + SECONDARY_LIMIT_WAIT_MS }],
  ])('when %s', (_name, answer, expected) => {
    expect(classifyGitHubAnswer(answer as GitHubAnswer, NOW)).toMatchObject(expected);
  });

  it('when GitHub answers 401, then the remedy names GH_PAT_WEBHOOK', () => {
    const verdict = classifyGitHubAnswer(response(401, {}, 'Bad credentials'), NOW);
    expect(verdict.kind === 'permanent' && verdict.remedy).toMatch(/GH_PAT_WEBHOOK/);
  });

  it('when GitHub answers 404, then the remedy names REPO_OWNER and REPO_NAME', () => {
    const verdict = classifyGitHubAnswer(response(404), NOW);
    expect(verdict.kind === 'permanent' && verdict.remedy).toMatch(/REPO_OWNER and REPO_NAME/);
  });
});

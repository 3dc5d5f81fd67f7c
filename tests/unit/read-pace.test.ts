import { nextReadAt } from '../../src/github/read-pace';

const MIN = 100;
import type { GitHubAnswer } from '../../src/github/classify-answer';

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const answer = (limit: string, remaining: string, resetInSeconds: number): GitHubAnswer => ({
  kind: 'response',
  status: 200,
  headers: { 'x-ratelimit-limit': limit, 'x-ratelimit-remaining': remaining, 'x-ratelimit-reset': String(NOW / 1000 + resetInSeconds) },
  message: undefined,
});

const NO_HEADERS: GitHubAnswer = { kind: 'response', status: 200, headers: {}, message: undefined };
const TRANSPORT: GitHubAnswer = { kind: 'transport', message: 'ECONNRESET' };

describe('the pace of reads', () => {
  it.each([
    ['a fresh hour of a PAT: more than half left, the shortest gap', MIN, answer('5000', '5000', 3600)],
    ['half the budget left with half the hour: slower', 900, answer('5000', '2500', 1800)],
    ['little left: much slower', 18_000, answer('5000', '600', 1800)],
    ['only the dispatches\' reserve left: wait for the reset', 1_200_000, answer('5000', '500', 1200)],
    ['an App with 15,000 an hour, a third used: the shortest gap', MIN, answer('15000', '10000', 3600)],
    ['plenty left just before the reset: the shortest gap', MIN, answer('5000', '4000', 10)],
    ['no rate-limit headers', MIN, NO_HEADERS],
    ['a transport error', MIN, TRANSPORT],
    ['an App at 6,000 of 15,000 with half an hour left: 4,500 usable over 1,800 s', 400, answer('15000', '6000', 1800)],
  ])('when %s, then the next read waits %d ms', (_name, waitMs, given) => {
    expect(nextReadAt(given, NOW, MIN) - NOW).toBe(waitMs);
  });
});

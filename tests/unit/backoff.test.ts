import { MAX_BACKOFF_MS, computeBackoffMs } from '../../src/domain/backoff';

describe('computeBackoffMs (full jitter)', () => {
  it.each([
    // failures, base, random, expected
    [1, 2000, 0.999999, 1999],
    [2, 2000, 0.999999, 3999],
    [3, 2000, 0.5, 4000],
    [4, 2000, 0.5, 8000],
    [1, 2000, 0, 0],
    [20, 2000, 0.5, MAX_BACKOFF_MS / 2],
    [30, 2000, 0.999999, MAX_BACKOFF_MS - 1],
  ])('when failures=%i and base=%i and random=%f, then the delay is %i', (failures, base, random, expected) => {
    expect(computeBackoffMs(failures, base, () => random)).toBe(expected);
  });

  it('when the random source is uniform, then delays spread over the whole window', () => {
    const delays = Array.from({ length: 1000 }, () => computeBackoffMs(3, 1000, Math.random));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(4000);
    expect(new Set(delays.map((d) => Math.floor(d / 1000))).size).toBe(4);
  });
});

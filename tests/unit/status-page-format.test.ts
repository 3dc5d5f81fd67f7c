import { counted, pageOf, relativeTime, shortRevision, toneOf } from '../../src/ui/format';

const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);

describe('relativeTime', () => {
  it.each([
    [0, 'just now'],
    [4_000, 'just now'],
    [5_000, '5 s ago'],
    [59_000, '59 s ago'],
    [60_000, '1 min ago'],
    [4 * 60_000 + 59_000, '4 min ago'],
    [3_600_000, '1 h ago'],
    [23 * 3_600_000, '23 h ago'],
    [86_400_000, '1 day ago'],
    [3 * 86_400_000, '3 days ago'],
    [-90_000, 'in 1 min'],
    [-2 * 3_600_000, 'in 2 h'],
  ])('when the time is %d ms before now, then it reads "%s"', (ago, expected) => {
    expect(relativeTime(NOW - ago, NOW)).toBe(expected);
  });
});

describe('shortRevision', () => {
  it.each([
    ['9f1c2e7d4b8a6f3e0d5c1b9a7e2f4d6c8b0a3e51', '9f1c2e7d'],
    ['9f1c2e7', '9f1c2e7'],
    ['', ''],
  ])('when the revision is "%s", then it shows "%s"', (revision, expected) => {
    expect(shortRevision(revision)).toBe(expected);
  });
});

describe('pageOf', () => {
  it.each([
    [undefined, 0, { page: 1, pages: 1, offset: 0 }],
    ['2', 120, { page: 2, pages: 3, offset: 50 }],
    ['9', 120, { page: 3, pages: 3, offset: 100 }],
    ['0', 120, { page: 1, pages: 3, offset: 0 }],
    ['-1', 120, { page: 1, pages: 3, offset: 0 }],
    ['2abc', 120, { page: 1, pages: 3, offset: 0 }],
    [['2', '3'], 120, { page: 1, pages: 3, offset: 0 }],
    ['1', 50, { page: 1, pages: 1, offset: 0 }],
    ['2', 51, { page: 2, pages: 2, offset: 50 }],
  ])('when page %j of %d items is asked for, then %j', (requested, total, expected) => {
    expect(pageOf(requested, total, 50)).toEqual(expected);
  });
});

describe('toneOf', () => {
  it.each([
    ['verified', 'good'],
    ['Healthy', 'good'],
    ['queued', 'busy'],
    ['awaiting_run', 'busy'],
    ['paused', 'warn'],
    ['suppressed', 'bad'],
    ['restore_failed', 'bad'],
    ['Degraded', 'bad'],
    ['dry_run', 'quiet'],
    [null, 'quiet'],
  ])('when the value is %s, then the badge is %s', (value, tone) => {
    expect(toneOf(value)).toBe(tone);
  });
});

describe('counted', () => {
  it.each([
    [0, 'app', '0 apps'],
    [1, 'app', '1 app'],
    [2, 'app', '2 apps'],
    [1, 'event', '1 event'],
    [10_000, 'app', '10000 apps'],
  ])('when %i %s, then %j', (n, word, expected) => {
    expect(counted(n, word)).toBe(expected);
  });

  it('when the plural is irregular, then it is given', () => {
    expect(counted(3, 'entry', 'entries')).toBe('3 entries');
  });
});

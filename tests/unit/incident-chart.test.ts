import { incidentChart } from '../../scripts/bench/incident-chart';

/** The points of each polyline, as [x, y] pairs, by its label. */
function lines(svg: string): Map<string, Array<[number, number]>> {
  const found = new Map<string, Array<[number, number]>>();
  for (const match of svg.matchAll(/<polyline class="series" data-label="([^"]+)"[^>]* points="([^"]+)"/g)) {
    found.set(
      match[1]!,
      match[2]!.split(' ').map((p) => p.split(',').map(Number) as [number, number]),
    );
  }
  return found;
}

describe('the incident chart (scripts/bench/incident-chart.ts)', () => {
  it('when two runs are drawn, then each is one line of all its rollbacks beside the target, and a later dispatch is drawn higher', () => {
    const fast = Array.from({ length: 100 }, (_, i) => i - 10);
    const slow = Array.from({ length: 100 }, (_, i) => 4 * i - 10);
    const svg = incidentChart(
      [
        { label: 'before', seconds: slow, color: '#c00' },
        { label: 'now', seconds: fast, color: '#00c' },
      ],
      1,
      'a <title> & more',
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('a &lt;title&gt; &amp; more');
    const drawn = lines(svg);
    expect([...drawn.keys()]).toEqual(['before', 'now', 'target: N × 1 s + 5 s']);
    for (const points of drawn.values()) expect(points).toHaveLength(100);
    // SVG's y grows downwards: the slow run's last dispatch sits above the fast one's, and the fast run
    // stays below the target line at every rollback.
    const [before, now, target] = [drawn.get('before')!, drawn.get('now')!, drawn.get('target: N × 1 s + 5 s')!];
    expect(before[99]![1]).toBeLessThan(now[99]![1]);
    now.forEach(([, yNow], i) => expect(yNow).toBeGreaterThan(target[i]![1]));
    // x runs left to right in dispatch order.
    expect(now[0]![0]).toBeLessThan(now[99]![0]);
  });
});

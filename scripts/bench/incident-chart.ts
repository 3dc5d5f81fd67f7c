/**
 * The incident's timeline as an SVG chart: when each of the 100 rollbacks was dispatched, counted from
 * the last notification, one line per run of `npm run bench` (its bench/results/<time>.json), with the
 * target (the N-th within N × pace + 5 s) as a dashed line.
 *
 *   npx tsx scripts/bench/incident-chart.ts docs/incident-dispatches.svg <results.json> [<earlier results.json>]
 *
 * The README shows docs/incident-dispatches.svg.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

export interface Series {
  label: string;
  /** Seconds from the last notification to each dispatch, in dispatch order. */
  seconds: number[];
  color: string;
  dashed?: boolean;
}

const W = 720;
const H = 380;
const M = { left: 56, right: 16, top: 40, bottom: 46 };
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The chart; `paceSeconds` draws the target line N × pace + 5 s. */
export function incidentChart(series: Series[], paceSeconds: number, title: string): string {
  const count = Math.max(...series.map((s) => s.seconds.length));
  const target: Series = { label: `target: N × ${paceSeconds} s + 5 s`, seconds: Array.from({ length: count }, (_, i) => (i + 1) * paceSeconds + 5), color: '#888', dashed: true };
  const all = [...series, target];
  const low = Math.min(0, ...all.flatMap((s) => s.seconds));
  const high = Math.max(...all.flatMap((s) => s.seconds));
  const step = high - low > 200 ? 50 : 20;
  const yMin = Math.floor(low / step) * step;
  const yMax = Math.ceil(high / step) * step;
  const x = (n: number) => M.left + ((n - 1) / Math.max(1, count - 1)) * (W - M.left - M.right);
  const y = (s: number) => H - M.bottom - ((s - yMin) / (yMax - yMin)) * (H - M.top - M.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${M.left}" y="20" font-size="14" font-weight="bold">${escape(title)}</text>`,
  ];
  for (let s = yMin; s <= yMax; s += step) {
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(s).toFixed(1)}" y2="${y(s).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${M.left - 6}" y="${(y(s) + 4).toFixed(1)}" text-anchor="end">${s}</text>`);
  }
  for (const n of [1, 25, 50, 75, 100].filter((v) => v <= count)) parts.push(`<text x="${x(n).toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle">${n}</text>`);
  parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 8}" text-anchor="middle">rollback, in dispatch order</text>`);
  parts.push(`<text x="14" y="${(M.top + H - M.bottom) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(M.top + H - M.bottom) / 2})">s after the last notification</text>`);
  all.forEach((s, i) => {
    const points = s.seconds.map((v, n) => `${x(n + 1).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(`<polyline class="series" data-label="${escape(s.label)}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${points}"/>`);
    const ly = M.top + 4 + i * 16;
    parts.push(`<line x1="${M.left + 12}" x2="${M.left + 36}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${M.left + 42}" y="${ly + 4}">${escape(s.label)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

interface IncidentRun {
  store: string;
  replicas: number;
  dispatchSeconds: number[];
}

function runsOf(file: string): IncidentRun[] {
  const result = JSON.parse(readFileSync(file, 'utf8')) as { incident?: IncidentRun[] };
  if (!result.incident?.length) throw new Error(`${file}: no incident run in it (npm run bench with the incident, or BENCH_ONLY=incident)`);
  return result.incident;
}

if (require.main === module) {
  const [out, current, earlier] = process.argv.slice(2);
  if (!out || !current) {
    process.stderr.write('usage: incident-chart.ts <out.svg> <results.json> [<earlier results.json>]\n');
    process.exit(2);
  }
  const colors = ['#1f6feb', '#2da44e'];
  const series: Series[] = runsOf(current).map((run, i) => ({
    label: `${run.store}${run.replicas > 1 ? `, ${run.replicas} replicas` : ''} (${basename(current, '.json')})`,
    seconds: run.dispatchSeconds,
    color: colors[i % colors.length]!,
  }));
  if (earlier) {
    const before = runsOf(earlier)[0]!;
    series.unshift({ label: `before: ${before.store} (${basename(earlier, '.json')})`, seconds: before.dispatchSeconds, color: '#cf222e' });
  }
  writeFileSync(out, incidentChart(series, 1, '100 rollbacks at once: when each was dispatched'));
  console.log(`wrote ${out}`);
}

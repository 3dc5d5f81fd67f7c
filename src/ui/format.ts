/** How long ago (or how far ahead) `at` is, as people say it: "just now", "4 min ago", "in 2 h". */
export function relativeTime(at: number, now: number): string {
  const seconds = Math.round((now - at) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 5) return 'just now';
  const [value, unit] =
    abs < 60 ? [abs, 's'] : abs < 3600 ? [Math.floor(abs / 60), 'min'] : abs < 86_400 ? [Math.floor(abs / 3600), 'h'] : [Math.floor(abs / 86_400), abs < 172_800 ? 'day' : 'days'];
  return seconds >= 0 ? `${value} ${unit} ago` : `in ${value} ${unit}`;
}

/** The short form of a commit id people recognise (git's default abbreviation is 7; 8 leaves a margin). */
export function shortRevision(revision: string): string {
  return revision.length > 8 ? revision.slice(0, 8) : revision;
}

/** Pages of `size` for `total` items: at least one page, `page` clamped into range. */
export function pageOf(requested: unknown, total: number, size: number): { page: number; pages: number; offset: number } {
  const pages = Math.max(1, Math.ceil(total / size));
  const asked = typeof requested === 'string' && /^\d{1,6}$/.test(requested) ? Number(requested) : 1;
  const page = Math.min(Math.max(asked, 1), pages);
  return { page, pages, offset: (page - 1) * size };
}

export type Tone = 'good' | 'busy' | 'warn' | 'bad' | 'quiet';

/** The badge colour of a status, an outcome or a health: green done, blue in progress, yellow held by hand, red needs a person. */
export function toneOf(value: string | null | undefined): Tone {
  switch (value) {
    case 'Healthy':
    case 'delivered':
    case 'verified':
    case 'restored':
      return 'good';
    case 'queued':
    case 'delivering':
    case 'retrying':
    case 'awaiting_run':
    case 'restoring':
    case 'Progressing':
      return 'busy';
    case 'paused':
    case 'unconfirmed':
      return 'warn';
    case 'Degraded':
    case 'failed':
    case 'suppressed':
    case 'refused':
    case 'Refused':
    case 'restore_failed':
    case 'run_missing':
    case 'unverified':
    case 'Missing':
      return 'bad';
    default:
      return 'quiet';
  }
}

/** "1 app", "2 apps", "0 apps": a count with its noun in the right number. */
export function counted(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

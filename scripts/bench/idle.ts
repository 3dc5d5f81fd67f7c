import { readFileSync } from 'node:fs';

/** Busy and total jiffies of all CPUs since boot (/proc/stat's first line). */
function cpuTimes(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal …: idle and iowait are not work.
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

export interface IdleWait {
  /** Seconds until the machine was idle. */
  seconds: number;
  /** False when it was still busy at the deadline. */
  idle: boolean;
  /** The busy share of the CPUs in the last window (0–1). */
  lastBusy: number;
}

/**
 * Waits until the whole machine is idle: `windows` consecutive windows of `windowMs` in which the CPUs
 * were busy less than `threshold` of the time. A bench measures one server at a time: a server that
 * answered and works afterwards (adnanh/webhook's command backlog, a queue draining) would otherwise slow
 * whatever is measured next.
 */
export async function waitUntilIdle(options: { threshold?: number; windowMs?: number; windows?: number; timeoutMs?: number } = {}): Promise<IdleWait> {
  const { threshold = 0.1, windowMs = 500, windows = 2, timeoutMs = 180_000 } = options;
  const started = Date.now();
  let quiet = 0;
  let lastBusy = 1;
  let before = cpuTimes();
  for (;;) {
    await new Promise((r) => setTimeout(r, windowMs));
    const now = cpuTimes();
    lastBusy = now.total === before.total ? 0 : (now.busy - before.busy) / (now.total - before.total);
    before = now;
    quiet = lastBusy < threshold ? quiet + 1 : 0;
    const seconds = (Date.now() - started) / 1000;
    if (quiet >= windows) return { seconds, idle: true, lastBusy };
    if (Date.now() - started > timeoutMs) return { seconds, idle: false, lastBusy };
  }
}

import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { Metrics } from '../metrics/metrics';
import type { Store } from '../store/database';
import { RETENTION_TABLES, trimBatch, type RetentionCursor } from '../store/retention.repository';
import { PollingLoop } from '../workers/polling-loop';

const DAY_MS = 86_400_000;

export interface RetentionOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  /** RETENTION_DAYS: rows older than this many days are deleted once finished. */
  days: number;
  /** Between two runs (default one hour); the first run starts `firstRunDelayMs` after start. */
  intervalMs?: number;
  firstRunDelayMs?: number;
  /** The longest a batch's transaction should take; the batch size follows it (default 50 ms). */
  maxBatchMs?: number;
}

export interface RetentionReport {
  deleted: Record<string, number>;
  batches: number;
  ms: number;
  longestBatchMs: number;
  /** The longest a batch took from asking to done: its wait for its turn (group commit, a checkpoint) and its fsync too. */
  longestWaitMs: number;
  /** What the longest transaction did: a table's batch, or giving pages back (reclaim). */
  longestBatchOf: string;
  /** Pages SQLite gave back to the file system afterwards. */
  pagesFreed: number;
}

interface Run {
  table: number;
  cursor: RetentionCursor | undefined;
  cutoff: number;
  started: number;
  report: RetentionReport;
}

const MIN_BATCH = 10;
const FIRST_BATCH = 50;
const MAX_BATCH = 2000;
/** Pages one incremental vacuum gives back at first (4 KiB each), and its bounds as it adapts. */
const FIRST_RECLAIM = 32;
const MIN_RECLAIM = 8;
const MAX_RECLAIM = 128;

/** The next step's size: scaled toward `target` ms by what this one took, growing at most 1.5×, within bounds. */
function adapt(size: number, tookMs: number, target: number, min: number, max: number): number {
  return Math.round(Math.min(max, Math.max(min, size * Math.min(1.5, Math.max(0.25, target / Math.max(tookMs, 0.1))))));
}

function noteLongest(report: RetentionReport, ms: number, of: string): void {
  if (ms <= report.longestBatchMs) return;
  report.longestBatchMs = ms;
  report.longestBatchOf = of;
}

/**
 * Deletes what is old and finished (src/store/retention.repository.ts), a batch per step, each batch its
 * own short transaction, so writers wait at most one batch. The batch size adapts so a batch takes about
 * a quarter of `maxBatchMs` (room for a batch three times slower than the last: a cold page, a GC). One log line and one metric update per run.
 */
export class RetentionWorker extends PollingLoop {
  private run: Run | undefined;
  private nextRunAt: number;
  /** Each table's batch size: their rows cost differently (an event takes its history with it). */
  private readonly batch = new Map<string, number>();
  private reclaimPages = FIRST_RECLAIM;
  private readonly intervalMs: number;
  private readonly maxBatchMs: number;

  constructor(private readonly options: RetentionOptions) {
    const intervalMs = options.intervalMs ?? 3_600_000;
    super(options.clock, options.logger.child({ component: 'retention' }), intervalMs);
    this.intervalMs = intervalMs;
    this.maxBatchMs = options.maxBatchMs ?? 50;
    this.nextRunAt = options.clock.now() + (options.firstRunDelayMs ?? 60_000);
  }

  protected override async step(): Promise<'worked' | number | undefined> {
    if (!this.run) {
      const now = this.clock.now();
      if (now < this.nextRunAt) return this.nextRunAt;
      this.run = { table: 0, cursor: undefined, cutoff: now - this.options.days * DAY_MS, started: performance.now(), report: { deleted: {}, batches: 0, ms: 0, longestBatchMs: 0, longestWaitMs: 0, longestBatchOf: '', pagesFreed: 0 } };
    }
    const finished = await this.stepRun(this.run);
    if (!finished) return 'worked';
    this.run = undefined;
    this.nextRunAt = this.clock.now() + this.intervalMs;
    return this.nextRunAt;
  }

  /** A whole run now, batch after batch (tests, and `npm run check`-style tools). */
  async runOnce(): Promise<RetentionReport> {
    const run: Run = { table: 0, cursor: undefined, cutoff: this.clock.now() - this.options.days * DAY_MS, started: performance.now(), report: { deleted: {}, batches: 0, ms: 0, longestBatchMs: 0, longestWaitMs: 0, longestBatchOf: '', pagesFreed: 0 } };
    while (!(await this.stepRun(run)));
    return run.report;
  }

  /** One batch of the run; true when the run is complete. */
  private async stepRun(run: Run): Promise<boolean> {
    const table = RETENTION_TABLES[run.table]!;
    const started = performance.now();
    const size = this.batch.get(table) ?? FIRST_BATCH;
    const result = await trimBatch(this.options.store, table, run.cutoff, run.cursor, size);
    // The lock is held for the batch's work; the wait for its turn and the fsync after are not held by it.
    const took = result.heldMs;
    run.report.longestWaitMs = Math.max(run.report.longestWaitMs, performance.now() - started);
    run.report.batches += 1;
    noteLongest(run.report, took, table);
    for (const [name, n] of Object.entries(result.deleted)) run.report.deleted[name] = (run.report.deleted[name] ?? 0) + (n ?? 0);
    // Aim at a quarter of the bound: a batch that took too long shrinks the next one, a quick one grows
    // it, by at most half. (Aiming at half with doubling left single batches at 79 ms of a 50 ms bound.)
    const target = this.maxBatchMs / 4;
    this.batch.set(table, adapt(size, took, target, MIN_BATCH, MAX_BATCH));
    run.cursor = result.next;
    if (result.next) return false;
    run.table += 1;
    if (run.table < RETENTION_TABLES.length) return false;
    // Then the file gives the freed pages back, a bounded number per transaction.
    for (;;) {
      const startedReclaim = performance.now();
      const asked = this.reclaimPages;
      const { pages: freed, heldMs } = await this.options.store.reclaimSpace(asked);
      run.report.longestWaitMs = Math.max(run.report.longestWaitMs, performance.now() - startedReclaim);
      run.report.batches += 1;
      noteLongest(run.report, heldMs, 'reclaim');
      run.report.pagesFreed += freed;
      // Moving pages costs what the file's layout makes it, up to 0.19 ms a page at 1,000,000 events (512
      // pages held the lock 97 ms, 4,096 at most 79 ms once): the step adapts like a batch, 8 to 128 pages.
      this.reclaimPages = adapt(asked, heldMs, target, MIN_RECLAIM, MAX_RECLAIM);
      if (freed < asked) break;
    }
    run.report.ms = performance.now() - run.started;
    const { deleted, batches, ms, longestBatchMs, longestWaitMs, longestBatchOf, pagesFreed } = run.report;
    this.options.metrics?.countRetention(deleted, ms / 1000, longestBatchMs / 1000);
    this.logger.info(
      { deleted, batches, ms: Math.round(ms), longestBatchMs: Math.round(longestBatchMs * 10) / 10, longestBatchOf, longestWaitMs: Math.round(longestWaitMs), pagesFreed, retentionDays: this.options.days },
      `retention: deleted what was finished and older than ${this.options.days} days`,
    );
    return true;
  }

  protected override async afterStop(): Promise<void> {}
}

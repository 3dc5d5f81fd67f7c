import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { LeaseLostError } from '../store/leased-work';

const STORE_ERROR_BACKOFF_MS = 1000;

/**
 * The loop every worker runs (delivery, outcome follower, notifier): do one step; when it did work, step
 * again; otherwise sleep until the time it names (capped by the poll interval) or until notify() wakes
 * it. A lost lease ends the step with a warning (the work is someone else's now); any other error is
 * logged and backed off for a second.
 *
 * stop(graceMs) stops taking work and lets the step in flight finish for up to `graceMs`; then
 * `cancelSignal` aborts it (a request in flight is cut). Either way the worker's leases are given back.
 */
export abstract class PollingLoop {
  protected running = false;
  /** Aborted as soon as stop() is called: waits end, no new work is taken. */
  protected stopSignal = new AbortController();
  /** Aborted when the grace period of stop() ran out: what is still in flight is cut. */
  protected cancelSignal = new AbortController();
  /**
   * Ends the current turn's wait: aborted by notify() and by stop(). One per turn and nothing else
   * listens to it, so a turn leaves nothing behind (AbortSignal.any on the long-lived stop signal added a
   * listener to it every turn that Node 20 never removed: 1,000,000 turns, 1,000,000 listeners, +40 MiB).
   */
  private waitSignal = new AbortController();
  private woken = false;
  private done: Promise<void> = Promise.resolve();

  protected constructor(
    protected readonly clock: Clock,
    protected readonly logger: Logger,
    private readonly pollIntervalMs: number,
  ) {}

  /** One unit of work: 'worked' to go again at once, or when to look next (undefined: the poll interval). */
  protected abstract step(): Promise<'worked' | number | undefined>;

  /** After the loop ended on stop(): give leases back. */
  protected abstract afterStop(): Promise<void>;

  /** Called when a step's lease was lost (for a metric); the warning is logged here. */
  protected onLeaseLost(_error: LeaseLostError): void {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopSignal = new AbortController();
    this.cancelSignal = new AbortController();
    this.done = this.loop();
  }

  /**
   * Wakes the loop early: there may be work. Called once per stored webhook: a signal already aborted is
   * left alone, since abort() builds its DOMException reason (with a stack trace) on every call.
   */
  notify(): void {
    this.woken = true;
    if (!this.waitSignal.signal.aborted) this.waitSignal.abort();
  }

  async stop(graceMs = 0): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopSignal.abort();
    this.waitSignal.abort();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    if ((await Promise.race([this.done, timedOut])) === 'timeout') {
      this.logger.warn({ graceMs }, 'work in flight did not finish in time; cutting it');
      this.cancelSignal.abort();
      await this.done;
    }
    clearTimeout(timer);
    await this.afterStop();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      this.woken = false;
      this.waitSignal = new AbortController();
      try {
        const next = await this.step();
        if (next === 'worked') continue;
        if (this.woken) continue;
        const until = Math.min(next ?? Number.POSITIVE_INFINITY, this.clock.now() + this.pollIntervalMs);
        if (!this.running) break;
        await this.clock.sleep(Math.max(0, until - this.clock.now()), this.waitSignal.signal);
      } catch (error) {
        if (error instanceof LeaseLostError) {
          this.logger.warn({ table: error.lease.table, key: error.lease.key }, 'lease was lost (another worker took this work over); result dropped, nothing written');
          this.onLeaseLost(error);
          continue;
        }
        if (!this.running) break;
        this.logger.error({ err: error }, 'store error; backing off');
        await this.clock.sleep(STORE_ERROR_BACKOFF_MS, this.stopSignal.signal);
      }
    }
  }
}
